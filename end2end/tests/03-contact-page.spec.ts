// The contact page: step through a searched list, edit and save, hide empty fields, never lose
// what was typed, and fit a phone.
import { test, expect, type Page } from "./browser-log";
import { createPerson, open, openFromList, signInAsAdmin, untilLive } from "./fixtures";

const suffix = `P${Date.now().toString(36)}`;
const firstNames = ["Ada", "Bea", "Cleo", "Dora", "Ezio"];
const names = firstNames.map((first) => `${first} ${suffix}`);

test.describe.configure({ mode: "serial" });

const heading = (page: Page) => page.getByRole("heading", { level: 1 });
const position = (page: Page) => page.getByRole("status").filter({ hasText: / of / });

test("five people to walk through", async ({ page }) => {
  await signInAsAdmin(page);
  // Created out of order: the list sorts them by name.
  for (const first of ["Cleo", "Ada", "Ezio", "Bea", "Dora"]) {
    await createPerson(page, `${first} ${suffix}`);
  }
});

test("on a phone the card fits the screen and starts with empty fields hidden", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await signInAsAdmin(page);
  await openFromList(page, suffix, names[0]);
  const card = page.locator(".card");
  await expect(page.getByRole("checkbox", { name: "Hide empty fields" })).toBeChecked();
  await expect(card.getByRole("textbox", { name: "City" })).toBeHidden();
  await expect(card.getByRole("textbox", { name: "First name" })).toBeVisible();
  const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  expect(fits).toBe(true);
  for (const name of ["Previous contact", "Next contact", "Save"]) {
    const button = page.getByRole("button", { name });
    if (await button.isVisible()) {
      const box = await button.boundingBox();
      expect(box!.height).toBeGreaterThanOrEqual(44);
    }
  }
  const box = await card.getByRole("textbox", { name: "First name" }).boundingBox();
  expect(box!.height).toBeGreaterThanOrEqual(44);
});

test("previous and next follow the searched list without reloading the page", async ({ page }) => {
  await signInAsAdmin(page);
  await openFromList(page, suffix, names[0]);
  await expect(position(page)).toHaveText("1 of 5");
  await expect(page.getByRole("button", { name: "Previous contact" })).toBeDisabled();
  // A full page load would lose this marker.
  await page.evaluate(() => ((window as any).stillTheSamePage = true));

  for (const i of [1, 2, 3]) {
    await page.getByRole("button", { name: "Next contact" }).click();
    await expect(heading(page)).toHaveText(names[i]);
    await expect(position(page)).toHaveText(`${i + 1} of 5`);
  }
  await page.getByRole("button", { name: "Previous contact" }).click();
  await expect(heading(page)).toHaveText(names[2]);
  await expect(position(page)).toHaveText("3 of 5");
  expect(page.url()).toContain(`q=${suffix}`);
  expect(page.url()).toContain("pos=3");
  expect(await page.evaluate(() => (window as any).stillTheSamePage)).toBe(true);

  // Back and forward are the browser's own.
  await page.goBack();
  await expect(heading(page)).toHaveText(names[3]);
  await page.goForward();
  await expect(heading(page)).toHaveText(names[2]);

  // A reload keeps the place.
  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(heading(page)).toHaveText(names[2]);
  await expect(position(page)).toHaveText("3 of 5");

  // j and k typed into a text field are text; elsewhere they move.
  const search = page.getByRole("searchbox", { name: "Search fields" });
  await search.fill("");
  await search.press("j");
  await search.press("k");
  await expect(search).toHaveValue("jk");
  await expect(heading(page)).toHaveText(names[2]);
  await search.fill("");
  await page.locator("h1").click();
  await page.keyboard.press("j");
  await expect(heading(page)).toHaveText(names[3]);
  await page.keyboard.press("k");
  await expect(heading(page)).toHaveText(names[2]);

  // At the end of the list, Next is disabled.
  await openFromList(page, suffix, names[4]);
  await expect(position(page)).toHaveText("5 of 5");
  await expect(page.getByRole("button", { name: "Next contact" })).toBeDisabled();
});

test("hide empty fields and search fields filter the card at once", async ({ page }) => {
  await signInAsAdmin(page);
  await openFromList(page, suffix, names[1]);
  const hide = page.getByRole("checkbox", { name: "Hide empty fields" });
  const city = page.getByRole("textbox", { name: "City" });
  await expect(hide).not.toBeChecked();
  await expect(city).toBeVisible();
  await hide.check();
  await expect(city).toBeHidden();
  await expect(page.getByRole("group", { name: "Additional Info" })).toBeHidden();
  await expect(page.getByRole("textbox", { name: "First name" })).toBeVisible();
  // Remembered for the user, on the server.
  await page.reload();
  await expect(page.getByRole("checkbox", { name: "Hide empty fields" })).toBeChecked();
  await expect(page.getByRole("textbox", { name: "City" })).toBeHidden();
  await page.getByRole("checkbox", { name: "Hide empty fields" }).uncheck();
  await expect(page.getByRole("textbox", { name: "City" })).toBeVisible();

  await page.getByRole("searchbox", { name: "Search fields" }).fill("utm");
  await expect(page.getByRole("textbox", { name: "UTM source" })).toBeVisible();
  await expect(page.getByRole("textbox", { name: "City" })).toBeHidden();
  await expect(page.getByRole("group", { name: "Contact" })).toBeHidden();
  await page.getByRole("searchbox", { name: "Search fields" }).fill("");
  await expect(page.getByRole("textbox", { name: "City" })).toBeVisible();
});

test("edits are checked, saved, kept across a reload, and never dropped", async ({ page }) => {
  await signInAsAdmin(page);
  await openFromList(page, suffix, names[1]);
  await expect(page.getByRole("group", { name: "Contact" })).toBeVisible();
  await expect(page.getByRole("group", { name: "General Info" })).toBeVisible();

  // City, saved, is still there after a reload.
  await page.getByRole("textbox", { name: "City" }).fill("Bologna");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();
  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByRole("textbox", { name: "City" })).toHaveValue("Bologna");

  // A bad email is explained next to it, and what was typed stays.
  const email = page.getByRole("textbox", { name: "Email" });
  await email.fill("bea.at.example");
  await email.press("Tab");
  await expect(page.getByText("An email address needs an @, like name@example.com.")).toBeVisible();
  await page.getByRole("button", { name: "Save" }).click();
  await expect(email).toHaveValue("bea.at.example");
  await expect(email).toHaveAttribute("aria-invalid", "true");
  await expect(email).toBeFocused();

  // Still unsaved after a reload (kept in the browser), then fixed and saved.
  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByRole("textbox", { name: "Email" })).toHaveValue("bea.at.example");
  await page.getByRole("textbox", { name: "Email" }).fill("bea@example.it");
  await page.getByRole("textbox", { name: "Phone" }).fill("347 123 4567");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();
  await expect(page.getByRole("textbox", { name: "Phone" })).toHaveValue("347 123 4567");

  // Moving on with an unsaved edit saves it first.
  await page.getByRole("textbox", { name: "Role" }).fill("Pastry chef");
  await page.getByRole("button", { name: "Next contact" }).click();
  await expect(heading(page)).toHaveText(names[2]);
  await page.getByRole("button", { name: "Previous contact" }).click();
  await expect(heading(page)).toHaveText(names[1]);
  await expect(page.getByRole("textbox", { name: "Role" })).toHaveValue("Pastry chef");
});

test("what is typed before the page's code has loaded is kept", async ({ page }) => {
  await signInAsAdmin(page);
  await openFromList(page, suffix, names[4]);
  const url = page.url();
  // The page's code arrives only when let through: until then the page is the server's HTML.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/pkg/*.wasm", async (route) => {
    await held;
    await route.continue();
  });
  await page.goto(url);
  await page.getByRole("textbox", { name: "Role" }).fill("Typed early");
  // The composer too, whose live version replaces the server's copy after the card's.
  await page.getByRole("textbox", { name: "Message" }).fill("Written early");
  expect(await page.locator("body").getAttribute("data-hydrated")).toBeNull();
  release();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByRole("textbox", { name: "Role" })).toHaveValue("Typed early");
  await expect(page.getByText("1 unsaved change")).toBeVisible();
  await expect(page.getByRole("textbox", { name: "Message" })).toHaveValue("Written early");
  await page.getByRole("button", { name: "Discard" }).click();
  await page.getByRole("textbox", { name: "Message" }).fill("");
  await page.unroute("**/pkg/*.wasm");
});

test("the page is painted before its code is fetched, and its code is fetched all at once", async ({ page }) => {
  await signInAsAdmin(page);
  await openFromList(page, suffix, names[2]);
  await page.goto(page.url());
  await untilLive(page);
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
    const code = (performance.getEntriesByType("resource") as PerformanceResourceTiming[])
      .filter((r) => r.name.includes("/pkg/") && /\.(wasm|js)$/.test(new URL(r.name).pathname))
      .map((r) => ({ file: new URL(r.name).pathname.split("/").pop()!, start: r.startTime, by: r.initiatorType }));
    return { parsed: nav.domContentLoadedEventStart, code };
  });
  expect(timing.code.length).toBeGreaterThan(2);
  // Nothing of the app's code was asked for while the page itself was still arriving.
  for (const { file, start } of timing.code) expect(start, file).toBeGreaterThanOrEqual(timing.parsed);
  // The contact page's own chunk was asked for beside the first bundle (preloaded by a link),
  // not only once the first bundle had run and reached the route.
  const chunk = timing.code.find(({ file }) => file.startsWith("split___contact_route_view"));
  expect(chunk?.by).toBe("link");
});

test("the time zone field suggests every time zone once it is used", async ({ page }) => {
  await signInAsAdmin(page);
  await openFromList(page, suffix, names[2]);
  const zone = page.locator(".card").getByRole("combobox", { name: "Time zone" });
  // Built on first use, not with the page.
  await expect(page.locator("#time-zones option")).toHaveCount(0);
  await zone.focus();
  await expect.poll(() => page.locator("#time-zones option").count()).toBeGreaterThan(300);
  await expect(page.locator('#time-zones option[value="Europe/Rome"]')).toHaveCount(1);
  await zone.fill("Europe/Rome");
  await page.getByRole("button", { name: "Discard" }).click();
});

test("two tabs editing one contact never overwrite each other silently", async ({ page, context }) => {
  await signInAsAdmin(page);
  await openFromList(page, suffix, names[3]);
  const other = await context.newPage();
  await open(other, page.url());

  await other.getByRole("textbox", { name: "City" }).fill("Torino");
  await other.getByRole("button", { name: "Save" }).click();
  await expect(other.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();

  await page.getByRole("textbox", { name: "City" }).fill("Napoli");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("alert")).toContainText("Someone else saved this contact");
  await expect(page.getByRole("textbox", { name: "City" })).toHaveValue("Napoli");
  await page.getByRole("button", { name: "Load their version" }).click();
  await expect(page.getByRole("textbox", { name: "City" })).toHaveValue("Napoli");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();
  await other.reload();
  await expect(other.getByRole("textbox", { name: "City" })).toHaveValue("Napoli");
});
