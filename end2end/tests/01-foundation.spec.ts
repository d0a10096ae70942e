// The first day with Rubrica: set it up, sign in, add people and companies, find them, sign out.
import { test, expect } from "./browser-log";
import { admin, open, signInAsAdmin, untilLive } from "./fixtures";

const suffix = Date.now().toString(36);
const person = `Giulia Bianchi-${suffix}`;
const company = `Ferramenta Rossi ${suffix}`;

test("an admin sets up Rubrica, adds contacts, finds them and signs out", async ({ page }) => {
  // First run: the workspace has no user, so sign-in leads to setup.
  await open(page, "/login");
  await expect(page).toHaveURL(/\/setup$/);
  await page.getByRole("textbox", { name: "Name" }).fill(admin.name);
  await page.getByRole("textbox", { name: "Email" }).fill(admin.email);
  await page.getByRole("textbox", { name: "Password" }).fill("short");
  await page.getByRole("button", { name: "Create admin" }).click();
  await expect(page.getByText("Use at least 10 characters for the password.")).toBeVisible();
  await expect(page.getByRole("textbox", { name: "Email" })).toHaveValue(admin.email);
  await page.getByRole("textbox", { name: "Password" }).fill(admin.password);
  await page.getByRole("button", { name: "Create admin" }).click();
  await expect(page).toHaveURL(/\/contacts$/);
  await untilLive(page);
  await expect(page.getByRole("heading", { level: 1, name: "Contacts" })).toBeVisible();

  // Sign out, and a wrong password is refused without saying which part was wrong.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await open(page, "/login");
  await page.getByRole("textbox", { name: "Email" }).fill(admin.email);
  await page.getByRole("textbox", { name: "Password" }).fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  // Sign-in is plain HTML: the refusal came back as a new page, with the email put back, the
  // password to type again focused, and no error left in the address.
  await expect(page.getByRole("textbox", { name: "Email" })).toHaveValue(admin.email);
  await expect(page.getByRole("textbox", { name: "Password" })).toBeFocused();
  await expect(page).toHaveURL(/\/login$/);
  await page.getByRole("textbox", { name: "Password" }).fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/contacts$/);
  await untilLive(page);

  // A person: a missing name is explained next to the field, then the contact opens.
  await page.getByRole("button", { name: "New contact" }).click();
  const dialog = page.getByRole("dialog", { name: "New contact" });
  await expect(dialog.getByRole("radio", { name: "Person" })).toBeChecked();
  await dialog.getByRole("button", { name: "Create contact" }).click();
  await expect(dialog.getByText("A person needs a first name or a last name.")).toBeVisible();
  await dialog.getByRole("textbox", { name: "First name" }).fill("Giulia");
  await dialog.getByRole("textbox", { name: "Last name" }).fill(`Bianchi-${suffix}`);
  await dialog.getByRole("button", { name: "Create contact" }).click();
  await expect(page).toHaveURL(/\/contacts\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { level: 1, name: person })).toBeVisible();

  // A company.
  await open(page, "/contacts");
  await page.getByRole("button", { name: "New contact" }).click();
  await dialog.getByRole("radio", { name: "Company" }).check();
  await dialog.getByRole("textbox", { name: "Business name" }).fill(company);
  await dialog.getByRole("button", { name: "Create contact" }).click();
  await expect(page.getByRole("heading", { level: 1, name: company })).toBeVisible();

  // Search finds them, and says so when nothing matches; the URL keeps the search.
  await open(page, "/contacts");
  await page.getByRole("searchbox", { name: "Search contacts" }).fill(suffix);
  await page.getByRole("searchbox", { name: "Search contacts" }).press("Enter");
  await expect(page).toHaveURL(new RegExp(`q=${suffix}`));
  await expect(page.getByRole("link", { name: person })).toBeVisible();
  await expect(page.getByRole("link", { name: company })).toBeVisible();
  await expect(page.getByText("2 contacts match")).toBeVisible();
  // Sorting keeps the search, and the list follows the order chosen.
  const sort = page.getByRole("combobox", { name: "Sort" });
  const rows = page.getByRole("list").getByRole("link");
  await sort.selectOption({ label: "Name (Z–A)" });
  await expect(page).toHaveURL(new RegExp(`q=${suffix}.*sort=`));
  await expect(rows).toHaveText([person, company]);
  await sort.selectOption({ label: "Name (A–Z)" });
  await expect(rows).toHaveText([company, person]);
  await page.reload();
  await expect(page.getByRole("searchbox", { name: "Search contacts" })).toHaveValue(suffix);
  await expect(page.getByRole("link", { name: person })).toBeVisible();
  await page.getByRole("searchbox", { name: "Search contacts" }).fill("zzqx-nobody");
  await page.getByRole("searchbox", { name: "Search contacts" }).press("Enter");
  await expect(page.getByText("No contacts match “zzqx-nobody”.")).toBeVisible();
  await expect(page.getByRole("link", { name: person })).toHaveCount(0);

  // Opening a contact from the list, then signing out: the list is closed to strangers.
  await page.getByRole("searchbox", { name: "Search contacts" }).fill(suffix);
  await page.getByRole("searchbox", { name: "Search contacts" }).press("Enter");
  await page.getByRole("link", { name: person }).click();
  await expect(page.getByRole("heading", { level: 1, name: person })).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/contacts");
  await expect(page).toHaveURL(/\/login(\?next=.*)?$/);
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
});

test("coming back, the browser fetches only the page: the app's code is kept from the first visit", async ({ page }) => {
  await signInAsAdmin(page);
  await open(page, "/contacts");
  // Everything the page fetched from the server on the second visit (Chromium's own record: a
  // file kept by the browser is "served from cache", or comes from its disk cache).
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  const urls = new Map<string, string>();
  const kept = new Set<string>();
  const fetched: string[] = [];
  cdp.on("Network.requestWillBeSent", (e) => urls.set(e.requestId, new URL(e.request.url).pathname));
  cdp.on("Network.requestServedFromCache", (e) => kept.add(e.requestId));
  cdp.on("Network.responseReceived", (e) => {
    if (!kept.has(e.requestId) && !e.response.fromDiskCache) fetched.push(urls.get(e.requestId) ?? e.response.url);
  });
  await open(page, "/contacts");
  await expect(page.getByRole("heading", { level: 1, name: "Contacts" })).toBeVisible();
  const bundles = fetched.filter((path) => path.includes("/pkg/"));
  expect(bundles, `bundles fetched again: ${fetched.join(", ")}`).toEqual([]);
  expect(fetched).toContain("/contacts");
  await cdp.detach();
});
