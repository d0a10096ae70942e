// The scale-out tests (../scale.sh): three instances behind nginx, driven like the other
// browser tests but apart from them, since they need that set-up.
import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

export default defineConfig({
  ...base,
  testDir: "./scale",
  timeout: 240_000,
});
