// The composer's tools: merge fields previewed for the contact with the empty ones named before
// sending, snippets saved from the composer and brought back with "/", emoji, a file attached
// to an email and downloaded from the thread, and the email's unsubscribe link.
import { test, expect, type Page } from "./browser-log";
import { expectNoNestedForms, mailTo, open, signInAsAdmin } from "./fixtures";

test.describe.configure({ mode: "serial" });

const suffix = Date.now().toString(36).slice(-5);
const name = `Elena Tool${suffix}`;
const address = `elena.${suffix}@example.it`;

async function openElena(page: Page) {
  await open(page, `/contacts?q=Tool${suffix}`);
  await page.getByRole("link", { name }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

const conversation = (page: Page) => page.getByRole("region", { name: "Conversation" });
const message = (page: Page) => conversation(page).getByRole("textbox", { name: "Message" });

test("merge fields are previewed for the contact, and the empty ones are named before sending", async ({ page }) => {
  await signInAsAdmin(page);
  await open(page, "/contacts");
  await page.getByRole("button", { name: "New contact" }).click();
  const dialog = page.getByRole("dialog", { name: "New contact" });
  await dialog.getByRole("textbox", { name: "First name" }).fill("Elena");
  await dialog.getByRole("textbox", { name: "Last name" }).fill(`Tool${suffix}`);
  await dialog.getByRole("button", { name: "Create contact" }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByRole("textbox", { name: "Email", exact: true }).fill(address);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();

  const pane = conversation(page);
  // No SMS provider is set up here: the channel says so instead of pretending to send.
  await expect(pane.getByRole("radio", { name: "SMS (not set up)" })).toBeDisabled();
  await pane.getByRole("radio", { name: "Email" }).check();
  await pane.getByRole("textbox", { name: "Subject" }).fill("Il tuo preventivo");
  await message(page).fill("Ciao ");
  await pane.getByRole("button", { name: "Insert field" }).click();
  await pane.getByRole("searchbox", { name: "Find a field" }).fill("first");
  await pane.getByRole("button", { name: "Contact: First name" }).click();
  await expect(message(page)).toHaveValue("Ciao {{contact.first_name}}");
  await message(page).press("End");
  await message(page).pressSequentially(" da {{contact.city}}.");
  const preview = pane.getByRole("region", { name: "Preview" });
  await expect(preview).toContainText("Ciao Elena da .");
  await expect(preview.getByRole("status")).toHaveText("Empty for this contact, left out: Contact: City.");

  await pane.getByRole("button", { name: "Send", exact: true }).click();
  const ask = pane.getByRole("alertdialog", { name: "Empty fields" });
  await expect(ask).toContainText("Contact: City");
  await ask.getByRole("button", { name: "Send anyway" }).click();
  const sent = pane.getByRole("list", { name: "Messages" }).getByRole("listitem").filter({ hasText: "Il tuo preventivo" });
  await expect(sent).toContainText("Sent", { timeout: 20_000 });
  await expect(sent).toContainText("Ciao Elena da .");
  const mail = await mailTo(address);
  expect(mail).toContain("Ciao Elena da .");
  expect(mail).toMatch(/List-Unsubscribe: <http[^>]+\/unsubscribe\/[0-9a-f]+>/);
});

test("a snippet saved from the composer comes back by typing / and its name; emoji go in at the cursor", async ({ page }) => {
  await signInAsAdmin(page);
  await openElena(page);
  const pane = conversation(page);
  const snippetName = `Grazie${suffix}`;
  await message(page).fill("Grazie per averci scritto, {{contact.first_name}}!");
  await pane.getByRole("button", { name: "Snippets" }).click();
  await pane.getByRole("textbox", { name: "Snippet name" }).fill(snippetName);
  await pane.getByRole("button", { name: "Save as snippet" }).click();
  await expect(pane.getByRole("status").filter({ hasText: "Snippet saved" })).toBeVisible();

  await message(page).fill("");
  await message(page).pressSequentially(`/${snippetName.slice(0, 5)}`);
  const suggestions = pane.getByRole("listbox", { name: "Snippets" });
  await expect(suggestions.getByRole("option", { name: snippetName })).toBeVisible();
  await message(page).press("Enter");
  await expect(message(page)).toHaveValue("Grazie per averci scritto, {{contact.first_name}}!");
  await expect(suggestions).toBeHidden();

  // Changed right there in the composer's Snippets panel, it inserts its new text.
  const snippets = pane.getByRole("button", { name: "Snippets", exact: true });
  if ((await snippets.getAttribute("aria-expanded")) !== "true") await snippets.click();
  await pane.getByRole("button", { name: `Edit snippet ${snippetName}` }).click();
  await pane.getByRole("textbox", { name: "Snippet text" }).fill("Grazie mille, {{contact.first_name}}!");
  // Its form is the snippet's own: saving it never submits (sends) anything around it.
  await expectNoNestedForms(page, "the composer with a snippet being edited");
  await pane.getByRole("button", { name: "Save snippet" }).click();
  await expect(pane.getByRole("textbox", { name: "Snippet text" })).toBeHidden();
  await expect(pane.getByRole("button", { name: new RegExp(`${snippetName}.*Grazie mille`) })).toBeVisible();
  await snippets.click();
  await message(page).fill("");
  await message(page).pressSequentially(`/${snippetName.slice(0, 5)}`);
  await expect(suggestions.getByRole("option", { name: snippetName })).toBeVisible();
  await message(page).press("Enter");
  await expect(message(page)).toHaveValue("Grazie mille, {{contact.first_name}}!");

  await pane.getByRole("button", { name: "Emoji" }).click();
  await pane.getByRole("group", { name: "Emoji" }).getByRole("button", { name: "👍" }).click();
  await expect(message(page)).toHaveValue("Grazie mille, {{contact.first_name}}!👍");

  // The draft survives a reload, tools' work included.
  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(message(page)).toHaveValue("Grazie mille, {{contact.first_name}}!👍");

  await open(page, "/settings/snippets");
  await expect(page.getByRole("listitem", { name: snippetName })).toBeVisible();
});

test("a file attached to an email goes with it, and the thread offers it to download", async ({ page }) => {
  await signInAsAdmin(page);
  await openElena(page);
  const pane = conversation(page);
  const chooser = page.waitForEvent("filechooser");
  await pane.getByRole("button", { name: "Attach file" }).click();
  await (await chooser).setFiles({
    name: "preventivo.pdf",
    mimeType: "application/pdf",
    buffer: Buffer.from("%PDF-1.4\n% preventivo cucina\n%%EOF\n"),
  });
  await expect(pane.getByRole("list", { name: "Attachments" })).toContainText("preventivo.pdf (1 KB)");
  await pane.getByRole("textbox", { name: "Subject" }).fill(`Preventivo ${suffix}`);
  await message(page).fill("In allegato il preventivo.");
  await pane.getByRole("button", { name: "Send", exact: true }).click();
  const sent = pane.getByRole("list", { name: "Messages" }).getByRole("listitem").filter({ hasText: `Preventivo ${suffix}` });
  await expect(sent).toContainText("Sent", { timeout: 20_000 });
  const download = page.waitForEvent("download");
  await sent.getByRole("link", { name: "preventivo.pdf (1 KB)" }).click();
  expect((await download).suggestedFilename()).toBe("preventivo.pdf");
  await expect
    .poll(async () => (await mailTo(address)).includes('filename="preventivo.pdf"'), { timeout: 15_000 })
    .toBe(true);
});

test("the unsubscribe link of an email stops emails to the contact, and says so", async ({ page }) => {
  const mail = await mailTo(address);
  const link = mail.match(/List-Unsubscribe: <([^>]+)>/)![1];
  await page.goto(link);
  await expect(page.getByRole("heading", { level: 1, name: "Unsubscribe from emails" })).toBeVisible();
  await page.getByRole("button", { name: "Unsubscribe" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "You are unsubscribed" })).toBeVisible();
  await expect(page.getByRole("status")).toContainText("will send it no more emails");

  await signInAsAdmin(page);
  await openElena(page);
  await expect(conversation(page).getByRole("radio", { name: /Email.*do not disturb/ })).toBeVisible();
  await expect(page.getByText("Unsubscribed", { exact: true })).toBeVisible();
});
