// Screen readers and keyboards: axe-core finds nothing on the main screens, at desktop and phone
// widths, and Lighthouse (mobile) scores the contact page's accessibility 100.
import { test, expect, type Page } from "./browser-log";
import AxeBuilder from "@axe-core/playwright";
import { chromiumArgs, chromiumPath } from "../chromium";
import { expectNoNestedForms, open, signInAsAdmin } from "./fixtures";

async function contactPage(page: Page): Promise<string> {
  await open(page, "/contacts");
  await page.locator(".contact-list a").first().click();
  await expect(page.getByRole("button", { name: "Next contact" })).toBeVisible();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  return page.url();
}

async function expectNoViolations(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const found = results.violations.map(
    (v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
  );
  expect(found, `axe-core on ${what}`).toEqual([]);
  // Not one of axe's rules.
  await expectNoNestedForms(page, what);
}

for (const [width, height] of [
  [1280, 900],
  [360, 740],
]) {
  test(`axe-core finds no violation at ${width} px`, async ({ page }) => {
    await page.setViewportSize({ width, height });
    await open(page, "/login");
    await expectNoViolations(page, "/login");
    await signInAsAdmin(page);
    await expectNoViolations(page, "/contacts");
    await contactPage(page);
    await expectNoViolations(page, "the contact page");
    // With an error showing, and on the phone's other tabs.
    await page.getByRole("textbox", { name: "Email" }).fill("not an email");
    await page.getByRole("textbox", { name: "Email" }).press("Tab");
    await expectNoViolations(page, "the contact page with a field error");
    if (width < 640) {
      await page.getByRole("tab", { name: "Conversation" }).click();
      await expect(page.getByRole("tabpanel", { name: "Conversation" })).toBeVisible();
      await expectNoViolations(page, "the conversation tab");
      // The edit waits on the card's tab, where its save bar is.
      await page.getByRole("tab", { name: "Details" }).click();
    }
    await page.getByRole("button", { name: "Discard" }).click();
  });
}

test("the phone's tabs work by touch and by keyboard", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await signInAsAdmin(page);
  await contactPage(page);
  const details = page.getByRole("tab", { name: "Details" });
  await expect(details).toHaveAttribute("aria-selected", "true");
  await expect(page.getByRole("group", { name: "Contact" })).toBeVisible();
  await page.getByRole("tab", { name: "History" }).click();
  await expect(page.getByRole("tabpanel", { name: "History" })).toBeVisible();
  await expect(page.getByRole("group", { name: "Contact" })).toBeHidden();
  await page.keyboard.press("ArrowRight");
  await expect(details).toBeFocused();
  await expect(page.getByRole("group", { name: "Contact" })).toBeVisible();
  const tab = await details.boundingBox();
  expect(tab!.height).toBeGreaterThanOrEqual(44);
});

test("Lighthouse scores the contact page's accessibility 100 on a phone", async ({ page, baseURL }) => {
  test.setTimeout(120_000);
  await signInAsAdmin(page);
  const url = await contactPage(page);
  const cookies = await page.context().cookies();
  const cookie = cookies.map((c) => `${c.name}=${c.value}`).join("; ");

  const { launch } = await import("chrome-launcher");
  const lighthouse = (await import("lighthouse")).default;
  const chrome = await launch({
    chromePath: chromiumPath,
    chromeFlags: chromiumArgs,
  });
  try {
    const result = await lighthouse(url, {
      port: chrome.port,
      onlyCategories: ["accessibility"],
      extraHeaders: { Cookie: cookie },
      logLevel: "error",
    });
    const category = result!.lhr.categories.accessibility;
    const failed = Object.values(result!.lhr.audits)
      .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode === "binary")
      .map((a) => `${a.id}: ${a.title}`);
    expect(failed, `Lighthouse on ${url} (base ${baseURL})`).toEqual([]);
    expect(category.score).toBe(1);
  } finally {
    await chrome.kill();
  }
});
