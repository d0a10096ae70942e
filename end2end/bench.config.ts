// The benchmarks (../bench.sh), run by Playwright in Debian's Chromium like the tests, but apart
// from them: they measure and print, and fail only when the page doesn't work.
import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

export default defineConfig({
  ...base,
  testDir: "./bench",
  testMatch: /.*\.bench\.ts$/,
  timeout: 600_000,
});
