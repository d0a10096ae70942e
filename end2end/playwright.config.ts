// Rubrica's browser tests: Debian's Chromium (never a downloaded browser), one worker, against a
// release build that ../test.sh starts on BASE_URL with a fresh database.
import { defineConfig } from "@playwright/test";
import { chromiumArgs, chromiumPath } from "./chromium";

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  // In CI a failed test runs once more, and Playwright reports it as flaky rather than passed, with
  // what the browser said (tests/browser-log.ts). Run by hand, a failure is final. (Pages that
  // sometimes failed to hydrate had a form inside a form, which the HTML parser drops or keeps
  // depending on how the page was streamed; fixtures.ts now checks every page opened for one.)
  retries: process.env.CI ? 1 : 0,
  reporter: "list",
  use: {
    baseURL: process.env.BASE_URL ?? "http://127.0.0.1:3123",
    locale: "en-US",
    extraHTTPHeaders: { "Accept-Language": "en" },
    trace: "off",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        browserName: "chromium",
        launchOptions: {
          executablePath: chromiumPath,
          args: chromiumArgs,
        },
      },
    },
  ],
});
