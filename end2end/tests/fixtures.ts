// What the browser tests share: the first admin's credentials and "wait until the page is live".
import { expect, type Page } from "@playwright/test";

export const admin = {
  name: "Anna Amministratrice",
  email: "anna@example.it",
  password: "una password lunga e sicura",
};

/** Opens `path` and waits until the wasm app has taken over the server-rendered page. */
export async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** Signs in as the admin from the sign-in page (setting the workspace up first if it is new). */
export async function signInAsAdmin(page: Page) {
  await open(page, "/login");
  if (new URL(page.url()).pathname === "/setup") {
    await page.getByRole("textbox", { name: "Name" }).fill(admin.name);
    await page.getByRole("textbox", { name: "Email" }).fill(admin.email);
    await page.getByRole("textbox", { name: "Password" }).fill(admin.password);
    await page.getByRole("button", { name: "Create admin" }).click();
  } else {
    await page.getByRole("textbox", { name: "Email" }).fill(admin.email);
    await page.getByRole("textbox", { name: "Password" }).fill(admin.password);
    await page.getByRole("button", { name: "Sign in" }).click();
  }
  await expect(page).toHaveURL(/\/contacts$/);
}
