import { chromium } from "@playwright/test";
const base = "http://127.0.0.1:3123";
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless","--no-sandbox","--disable-gpu","--disable-quic","--no-first-run","--disable-background-networking","--disable-component-update","--disable-sync"] });
for (const [w, h] of [[1280, 900], [360, 740]]) {
  const ctx = await browser.newContext({ viewport: { width: w, height: h }, extraHTTPHeaders: { "Accept-Language": "en" } });
  const page = await ctx.newPage();
  await page.goto(base + "/login");
  await page.getByRole("textbox", { name: "Email" }).fill("anna@example.it");
  await page.getByRole("textbox", { name: "Password" }).fill("una password lunga e sicura");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/contacts$/);
  await page.waitForSelector("body[data-hydrated=true]");
  await page.goto(base + "/contacts?q=Campi");
  await page.waitForSelector("body[data-hydrated=true]");
  await page.getByText("Filter by tag").click();
  await page.waitForTimeout(800);
  await page.screenshot({ path: `/tmp/shots/list-${w}.png`, fullPage: true });
  await page.locator(".contact-list a").first().click();
  await page.waitForSelector("h1");
  await page.waitForTimeout(1200);
  await page.screenshot({ path: `/tmp/shots/contact-${w}.png`, fullPage: true });
  for (const s of ["fields", "tags", "team"]) {
    await page.goto(base + "/settings/" + s);
    await page.waitForSelector("body[data-hydrated=true]");
    await page.waitForTimeout(800);
    await page.screenshot({ path: `/tmp/shots/settings-${s}-${w}.png`, fullPage: true });
  }
  await ctx.close();
}
await browser.close();
