// What the browser tests share: the first admin's credentials and "wait until the page is live".
import { expect, type Page } from "@playwright/test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

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

/** Every email the test SMTP server (aiosmtpd, see ../test.sh) received, as text, with
 * quoted-printable soft line breaks undone so that links read whole. */
export function mails(): string[] {
  const dir = process.env.MAILDIR;
  if (!dir) throw new Error("MAILDIR is not set: run the browser tests through ../test.sh");
  const files = ["new", "cur"].flatMap((sub) => {
    try {
      return readdirSync(join(dir, sub)).map((f) => join(dir, sub, f));
    } catch {
      return [];
    }
  });
  return files.map((f) => readFileSync(f, "utf8").replace(/=\r?\n/g, "").replace(/=3D/g, "="));
}

/** The newest email to `to`, waiting up to 15 s for it. */
export async function mailTo(to: string): Promise<string> {
  let found: string | undefined;
  await expect
    .poll(() => (found = mails().filter((m) => m.includes(to)).pop()), { timeout: 15_000 })
    .toBeTruthy();
  return found!;
}
