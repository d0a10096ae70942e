// Rubrica on a phone (360 × 740): nothing scrolls sideways, everything is big enough for a thumb.
import { test, expect } from "./browser-log";
import { signInAsAdmin } from "./fixtures";

test.use({ viewport: { width: 360, height: 740 } });

test("the contacts list fits a phone and its controls are thumb-sized", async ({ page }) => {
  await signInAsAdmin(page);
  await expect(page.getByRole("heading", { level: 1, name: "Contacts" })).toBeVisible();
  const [scrollWidth, innerWidth] = await page.evaluate(() => [
    document.documentElement.scrollWidth,
    window.innerWidth,
  ]);
  expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
  for (const name of ["New contact", "Sign out", "Search"]) {
    const box = await page.getByRole("button", { name, exact: true }).boundingBox();
    expect(box?.height ?? 0, `${name} is at least 44 px tall`).toBeGreaterThanOrEqual(44);
  }
  const search = await page.getByRole("searchbox", { name: "Search contacts" }).boundingBox();
  expect(search?.height ?? 0).toBeGreaterThanOrEqual(44);
  await page.screenshot({ path: "test-results/contacts-360.png", fullPage: true });
});
