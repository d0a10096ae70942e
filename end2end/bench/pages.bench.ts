// What three pages cost a phone (issue 6), run by ../../bench.sh against a release build whose
// database the seed filled (with its demo admin): every byte Chromium fetches to show and hydrate
// /login, /contacts and a contact page (gzip, as sent), and Lighthouse's mobile performance and
// accessibility scores for each.
import { test, expect, type Page } from "@playwright/test";
import { writeFileSync, mkdirSync } from "node:fs";
import { chromiumArgs, chromiumPath } from "../chromium";
import { open, untilLive } from "../tests/fixtures";

type PageResult = { page: string; gzip_bytes: number; requests: number; performance: number; accessibility: number };

/** Bytes on the wire (bodies and headers) for everything the page loads until it is hydrated (or,
 *  plain HTML, loaded) and the network is quiet, with only gzip offered, as the budget counts it. */
async function transfer(page: Page, path: string): Promise<[number, number]> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  await cdp.send("Network.setExtraHTTPHeaders", { headers: { "Accept-Encoding": "gzip" } });
  let bytes = 0;
  let requests = 0;
  cdp.on("Network.loadingFinished", (e) => {
    bytes += e.encodedDataLength;
    requests += 1;
  });
  await open(page, path);
  await page.waitForLoadState("networkidle");
  await cdp.detach();
  return [bytes, requests];
}

async function lighthouse(url: string, cookie: string | null) {
  const { launch } = await import("chrome-launcher");
  const run = (await import("lighthouse")).default;
  const chrome = await launch({ chromePath: chromiumPath, chromeFlags: chromiumArgs });
  try {
    // Lighthouse's default is the mobile preset: a phone's screen, CPU and network, simulated.
    const result = await run(url, {
      port: chrome.port,
      onlyCategories: ["performance", "accessibility"],
      extraHeaders: cookie ? { Cookie: cookie } : undefined,
      logLevel: "error",
    });
    const c = result!.lhr.categories;
    return { performance: c.performance.score! * 100, accessibility: c.accessibility.score! * 100 };
  } finally {
    await chrome.kill();
  }
}

test("pages: transfer size and Lighthouse", async ({ browser, baseURL }) => {
  test.setTimeout(300_000);
  const results: PageResult[] = [];

  const signedOutContext = await browser.newContext({ baseURL });
  const signedOut = await signedOutContext.newPage();
  const [loginBytes, loginRequests] = await transfer(signedOut, "/login");
  results.push({ page: "/login", gzip_bytes: loginBytes, requests: loginRequests, ...(await lighthouse(`${baseURL}/login`, null)) });
  await signedOutContext.close();

  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await open(page, "/login");
  await page.getByRole("textbox", { name: "Email" }).fill("demo@rubrica.local");
  await page.getByRole("textbox", { name: "Password" }).fill("rubrica-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/contacts$/);
  await untilLive(page);
  const contact = await page.getByRole("list").getByRole("link").first().getAttribute("href");
  const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
  for (const path of ["/contacts", contact!]) {
    const fresh = await context.newPage();
    const [bytes, requests] = await transfer(fresh, path);
    await fresh.close();
    const name = path === "/contacts" ? "/contacts" : "contact page";
    results.push({ page: name, gzip_bytes: bytes, requests, ...(await lighthouse(`${baseURL}${path}`, cookie)) });
  }

  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/pages.json", JSON.stringify(results, null, 2));
  for (const r of results) {
    console.log(`${r.page}: ${(r.gzip_bytes / 1024).toFixed(1)} KiB in ${r.requests} requests, Lighthouse ${r.performance} / ${r.accessibility}`);
  }
});
