// Italian and English: a browser set to Italian gets Italian; a user switches language from the
// header, and the choice stays with them. The admin is switched back to English at the end, for
// the other tests.
import { test, expect, type Page } from "./browser-log";
import AxeBuilder from "@axe-core/playwright";
import { admin, open, signInAsAdmin } from "./fixtures";

test.describe.configure({ mode: "serial" });

async function contactPage(page: Page) {
  await open(page, "/contacts");
  await page.locator(".contact-list a").first().click();
  await expect(page).toHaveURL(/\/contacts\/[0-9a-f-]+\?pos=1/);
  await expect(page.getByRole("button", { name: "Next contact" })).toBeVisible();
}

test.describe("a browser set to Italian", () => {
  test.use({ locale: "it-IT", extraHTTPHeaders: { "Accept-Language": "it-IT,it;q=0.9" } });

  test("signs in, in Italian", async ({ page }) => {
    await open(page, "/login");
    await expect(page.locator("html")).toHaveAttribute("lang", "it");
    await page.getByRole("textbox", { name: "Email" }).fill(admin.email);
    await page.getByRole("textbox", { name: "Password" }).fill("sbagliata davvero");
    await page.getByRole("button", { name: "Accedi" }).click();
    await expect(page.getByRole("alert")).toHaveText("Email o password errata.");
    await expect(page.getByRole("textbox", { name: "Email" })).toHaveValue(admin.email);
    await page.getByRole("textbox", { name: "Password" }).fill(admin.password);
    await page.getByRole("button", { name: "Accedi" }).click();
    await expect(page).toHaveURL(/\/contacts$/);
    // No language chosen yet: the browser's.
    await expect(page.getByRole("heading", { level: 1, name: "Contatti" })).toBeVisible();
    await expect(page.getByRole("button", { name: "English" })).toBeVisible();
  });
});

test("switching to Italian: the whole page, its formats, and every later visit", async ({ page }) => {
  await signInAsAdmin(page);
  await contactPage(page);
  const url = page.url();

  await page.getByRole("button", { name: "Italiano" }).click();
  // The same page, now in Italian.
  await expect(page).toHaveURL(url);
  await expect(page.locator("html")).toHaveAttribute("lang", "it");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByRole("group", { name: "Informazioni generali" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Contatto successivo" })).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: / di / })).toBeVisible();
  await expect(page.getByRole("checkbox", { name: "Nascondi campi vuoti" })).toBeVisible();
  await expect(page.locator(".record dd").first()).toHaveText(/^\d\d\/\d\d\/\d{4} \d\d:\d\d UTC$/);

  // Errors are worded in Italian too, next to the field, with the typed text kept.
  const email = page.getByRole("textbox", { name: "Email" });
  await email.fill("non-una-email");
  await email.press("Tab");
  await expect(page.getByText("Un indirizzo email contiene una @, come nome@esempio.it.")).toBeVisible();
  await expect(email).toHaveValue("non-una-email");
  // Search fields matches the Italian labels.
  await page.getByRole("searchbox", { name: "Cerca campi" }).fill("citt");
  await expect(page.getByRole("textbox", { name: "Città" })).toBeVisible();
  await expect(page.getByRole("textbox", { name: "Nome", exact: true })).toBeHidden();
  await page.getByRole("searchbox", { name: "Cerca campi" }).fill("");
  const violations = (await new AxeBuilder({ page }).analyze()).violations.map((v) => v.id);
  expect(violations, "axe-core on the Italian contact page").toEqual([]);
  await page.getByRole("button", { name: "Scarta" }).click();

  // Italian number formats in the list, and the choice is kept on the next visit.
  await open(page, "/contacts");
  await expect(page.getByRole("heading", { level: 1, name: "Contatti" })).toBeVisible();
  await expect(page.getByRole("status")).toHaveText(/^[\d.]+ contatti$/);

  // And back to English, as the other tests expect.
  await page.getByRole("button", { name: "English" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Contacts" })).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
});
