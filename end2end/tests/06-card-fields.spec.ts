// Shaping the card: an admin adds a custom field of every type and a colleague's contact gets a
// value in each; a field moves by keyboard; every edit shows in the contact's history.
import { test, expect, type Page } from "./browser-log";
import { open, signInAsAdmin } from "./fixtures";

test.describe.configure({ mode: "serial" });

const suffix = Date.now().toString(36).slice(-4);
const contactName = `Lia Campi${suffix}`;

/** One field of each type: how it is made, filled, and shown again after a reload. */
const fields = [
  { name: `Dog ${suffix}`, type: "Text", fill: "Fido", shown: "Fido" },
  { name: `Notes ${suffix}`, type: "Long text", fill: "Prefers mornings.\nCall first.", shown: "Prefers mornings.\nCall first." },
  { name: `Employees ${suffix}`, type: "Number", fill: "1.250", shown: "1250" },
  { name: `Budget ${suffix}`, type: "Decimal or money", fill: "1.250,50", shown: "1250.50" },
  { name: `Renewal ${suffix}`, type: "Date", fill: "31/12/2027", shown: "31/12/2027" },
  { name: `Call back ${suffix}`, type: "Date and time", fill: "2026-12-01T09:30", shown: "2026-12-01T09:30" },
  { name: `Consent ${suffix}`, type: "Checkbox" },
  { name: `Plan ${suffix}`, type: "Single select", options: "Gold\nSilver", choose: "Silver" },
  { name: `Likes ${suffix}`, type: "Multi select", options: "Pizza\nPasta\nGelato", pick: ["Pizza", "Gelato"] },
  { name: `Work email ${suffix}`, type: "Email", fill: "Lia@Work.it", shown: "lia@work.it" },
  { name: `Mobile ${suffix}`, type: "Phone", fill: "+39 333 1234567", shown: "333 123 4567" },
  { name: `Portfolio ${suffix}`, type: "URL", fill: "lia.example.it", shown: "https://lia.example.it" },
];

async function openContact(page: Page) {
  await open(page, `/contacts?q=Campi${suffix}`);
  await page.getByRole("link", { name: contactName }).click();
  await expect(page.getByRole("heading", { level: 1, name: contactName })).toBeVisible();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

test("an admin adds a custom field of every type in Settings", async ({ page }) => {
  await signInAsAdmin(page);
  await page.getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Fields and folders" })).toBeVisible();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const form = page.getByRole("region", { name: "New field" });
  for (const field of fields) {
    await form.getByRole("textbox", { name: "Field name" }).fill(field.name);
    await form.getByRole("combobox", { name: "Field type" }).selectOption({ label: field.type });
    if (field.options) {
      await form.getByRole("textbox", { name: "Options, one per line" }).fill(field.options);
    }
    await form.getByRole("combobox", { name: "Folder" }).selectOption({ label: "Additional Info" });
    await form.getByRole("button", { name: "Create field" }).click();
    await expect(
      page.getByRole("region", { name: "Additional Info" }).getByText(field.name, { exact: true }),
    ).toBeVisible();
    await expect(form.getByRole("textbox", { name: "Field name" })).toHaveValue("");
  }
  // A select needs its options, said next to them; nothing typed is lost.
  await form.getByRole("textbox", { name: "Field name" }).fill(`Size ${suffix}`);
  await form.getByRole("combobox", { name: "Field type" }).selectOption({ label: "Single select" });
  await form.getByRole("textbox", { name: "Options, one per line" }).fill("  ");
  await form.getByRole("button", { name: "Create field" }).click();
  await expect(form.getByText("Add at least one option, one per line.")).toBeVisible();
  await expect(form.getByRole("textbox", { name: "Field name" })).toHaveValue(`Size ${suffix}`);
});

test("each custom field takes a value of its type on the card and keeps it", async ({ page }) => {
  await signInAsAdmin(page);
  await page.getByRole("button", { name: "New contact" }).click();
  const dialog = page.getByRole("dialog", { name: "New contact" });
  await dialog.getByRole("textbox", { name: "First name" }).fill("Lia");
  await dialog.getByRole("textbox", { name: "Last name" }).fill(`Campi${suffix}`);
  await dialog.getByRole("button", { name: "Create contact" }).click();
  await expect(page.getByRole("heading", { level: 1, name: contactName })).toBeVisible();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");

  // A wrong number is explained next to it, and what was typed stays.
  const employees = page.getByRole("textbox", { name: `Employees ${suffix}` });
  await employees.fill("twelve");
  await employees.press("Tab");
  await expect(page.getByText("Enter a whole number, like 42 or 1.250.")).toBeVisible();
  await expect(employees).toHaveValue("twelve");

  for (const field of fields) {
    if (field.fill !== undefined) {
      await page.getByLabel(field.name, { exact: true }).fill(field.fill);
    }
  }
  await page.getByRole("checkbox", { name: `Consent ${suffix}` }).check();
  await page.getByRole("combobox", { name: `Plan ${suffix}` }).selectOption("Silver");
  const likes = page.getByRole("group", { name: `Likes ${suffix}` });
  await likes.getByRole("checkbox", { name: "Gelato" }).check();
  await likes.getByRole("checkbox", { name: "Pizza" }).check();
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();

  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  for (const field of fields) {
    if (field.shown !== undefined) {
      await expect(page.getByLabel(field.name, { exact: true })).toHaveValue(field.shown);
    }
  }
  await expect(page.getByRole("checkbox", { name: `Consent ${suffix}` })).toBeChecked();
  await expect(page.getByRole("combobox", { name: `Plan ${suffix}` })).toHaveValue("Silver");
  const likesAgain = page.getByRole("group", { name: `Likes ${suffix}` });
  await expect(likesAgain.getByRole("checkbox", { name: "Pizza" })).toBeChecked();
  await expect(likesAgain.getByRole("checkbox", { name: "Pasta" })).not.toBeChecked();
  await expect(likesAgain.getByRole("checkbox", { name: "Gelato" })).toBeChecked();

  // Hide empty fields and Search fields know custom fields too.
  await page.getByRole("searchbox", { name: "Search fields" }).fill(`Dog ${suffix}`);
  await expect(page.getByRole("textbox", { name: `Dog ${suffix}` })).toBeVisible();
  await expect(page.getByRole("textbox", { name: "City" })).toBeHidden();
  // A folder's name finds the whole folder.
  await page.getByRole("searchbox", { name: "Search fields" }).fill("general info");
  await expect(page.getByRole("textbox", { name: "City" })).toBeVisible();
  await expect(page.getByRole("textbox", { name: "First name" })).toBeHidden();
  await page.getByRole("searchbox", { name: "Search fields" }).fill("");
  await page.getByRole("checkbox", { name: "Hide empty fields" }).check();
  await expect(page.getByRole("textbox", { name: `Dog ${suffix}` })).toBeVisible();
  await expect(page.getByRole("textbox", { name: "City" })).toBeHidden();
  await page.getByRole("checkbox", { name: "Hide empty fields" }).uncheck();
});

test("a field moves up and to another folder by keyboard alone", async ({ page }) => {
  await signInAsAdmin(page);
  await open(page, "/settings/fields");
  const extra = page.getByRole("region", { name: "Additional Info" });
  const names = () => extra.locator(".field-item .field-name").allTextContents();
  const before = await names();
  const at = before.indexOf(`Dog ${suffix}`);
  expect(at).toBeGreaterThan(0);

  const up = page.getByRole("button", { name: `Move Dog ${suffix} up` });
  await up.focus();
  await page.keyboard.press("Enter");
  await expect.poll(names).toEqual([
    ...before.slice(0, at - 1),
    `Dog ${suffix}`,
    before[at - 1],
    ...before.slice(at + 1),
  ]);

  // Into the Contact folder, by the keyboard on its folder list.
  const folder = page.getByRole("combobox", { name: `Folder of Dog ${suffix}` });
  await folder.focus();
  await folder.selectOption({ label: "Contact" });
  await expect(
    page.getByRole("region", { name: "Contact", exact: true }).getByText(`Dog ${suffix}`, { exact: true }),
  ).toBeVisible();
  await expect(extra.getByText(`Dog ${suffix}`, { exact: true })).toHaveCount(0);

  // The card shows it there, value intact.
  await openContact(page);
  await expect(
    page.getByRole("group", { name: "Contact", exact: true }).getByRole("textbox", { name: `Dog ${suffix}` }),
  ).toHaveValue("Fido");
});

test("a field moves by drag and drop", async ({ page }) => {
  // Tall enough for both ends of the drag to be on screen (a mouse can't scroll mid-drag here).
  await page.setViewportSize({ width: 1280, height: 4000 });
  await signInAsAdmin(page);
  await open(page, "/settings/fields");
  const extra = page.getByRole("region", { name: "Additional Info" });
  const names = () => extra.locator(".field-item .field-name").allTextContents();
  // Notes is dropped on the folder's first field (Role), and takes its place.
  await extra
    .getByText(`Notes ${suffix}`, { exact: true })
    .dragTo(extra.locator(".field-item .field-name").first());
  await expect.poll(async () => (await names())[0]).toBe(`Notes ${suffix}`);
  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect.poll(async () => (await names())[0]).toBe(`Notes ${suffix}`);
});

test("an edit appears in the contact's history at once", async ({ page }) => {
  await signInAsAdmin(page);
  await openContact(page);
  const history = page.getByRole("region", { name: "History" });
  await expect(history.getByText("Contact created")).toBeVisible();
  await page.getByRole("textbox", { name: "City" }).fill("Bologna");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();
  const newest = history.getByRole("list", { name: "Changes" }).getByRole("listitem").first();
  await expect(newest).toContainText("City: Bologna");
  await expect(newest).toContainText("Anna Amministratrice");
  await expect(history.getByText(`Dog ${suffix}: Fido`)).toBeVisible();
});
