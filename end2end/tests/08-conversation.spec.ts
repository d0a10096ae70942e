// The conversation: an email scheduled a few seconds ahead shows Scheduled, then Sent without a
// reload, and the SMTP server holds it; a scheduled message is edited and cancelled; an hour
// the clocks skip is refused in words; a long thread shows its newest 200 messages, and earlier
// ones on request.
import { test, expect, type Page } from "./browser-log";
import { createPerson, mailTo, open, romeIn, schedule, signInAsAdmin, write } from "./fixtures";

test.describe.configure({ mode: "serial" });
test.use({ timezoneId: "Europe/Rome" });

const suffix = Date.now().toString(36).slice(-5);
const name = `Carla Msg${suffix}`;
const address = `carla.${suffix}@example.it`;

async function openCarla(page: Page) {
  await open(page, `/contacts?q=Msg${suffix}`);
  await page.getByRole("link", { name }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

const item = (page: Page, subject: string) =>
  page.getByRole("list", { name: "Messages" }).getByRole("listitem").filter({ hasText: subject });

test("an email scheduled a few seconds ahead is Scheduled, then Sent, without a reload", async ({ page }) => {
  await signInAsAdmin(page);
  await open(page, "/contacts");
  await page.getByRole("button", { name: "New contact" }).click();
  const dialog = page.getByRole("dialog", { name: "New contact" });
  await dialog.getByRole("textbox", { name: "First name" }).fill("Carla");
  await dialog.getByRole("textbox", { name: "Last name" }).fill(`Msg${suffix}`);
  await dialog.getByRole("button", { name: "Create contact" }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByRole("textbox", { name: "Email", exact: true }).fill(address);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();

  await write(page, `Promemoria ${suffix}`, "Ci vediamo domani alle 10.");
  const scheduleDialog = await schedule(page, romeIn(8_000));
  await expect(scheduleDialog.getByRole("status")).toContainText("your time");
  await scheduleDialog.getByRole("button", { name: "Schedule send" }).click();
  await expect(scheduleDialog).toBeHidden();
  // Nothing leaves the page from here on: the status changes by itself.
  await page.evaluate(() => ((window as any).stillTheSamePage = true));
  const sent = item(page, `Promemoria ${suffix}`);
  await expect(sent).toContainText("Scheduled");
  await expect(sent).toContainText("Sent", { timeout: 30_000 });
  expect(await page.evaluate(() => (window as any).stillTheSamePage)).toBe(true);
  const mail = await mailTo(address);
  expect(mail).toContain(`Subject: Promemoria ${suffix}`);
  expect(mail).toContain("Ci vediamo domani alle 10.");
});

test("a scheduled message is edited, then cancelled, before its time", async ({ page }) => {
  await signInAsAdmin(page);
  await openCarla(page);
  await write(page, `Bozza ${suffix}`, "Prima versione.");
  const dialog = await schedule(page, romeIn(2 * 24 * 3600 * 1000));
  await dialog.getByRole("button", { name: "Schedule send" }).click();
  const draft = item(page, `Bozza ${suffix}`);
  await expect(draft).toContainText("Scheduled");

  await draft.getByRole("button", { name: "Edit scheduled message" }).click();
  const editing = page.getByRole("dialog", { name: "Schedule" });
  await editing.getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("region", { name: "Conversation" }).getByRole("textbox", { name: "Subject" }).fill(`Bozza corretta ${suffix}`);
  const again = await schedule(page, romeIn(3 * 24 * 3600 * 1000));
  await again.getByRole("button", { name: "Schedule send" }).click();
  const edited = item(page, `Bozza corretta ${suffix}`);
  await expect(edited).toContainText("Scheduled");
  await expect(item(page, `Bozza ${suffix}`).filter({ hasNotText: "corretta" })).toHaveCount(0);

  await edited.getByRole("button", { name: "Cancel scheduled message" }).click();
  await expect(edited).toContainText("Cancelled");
  await expect(edited.getByRole("button", { name: "Send now" })).toHaveCount(0);
});

test("an hour the clocks skip is refused in words, and what was written stays", async ({ page }) => {
  await signInAsAdmin(page);
  await openCarla(page);
  await write(page, `Primavera ${suffix}`, "Ora legale.");
  const year = new Date().getFullYear() + 1;
  const lastSundayOfMarch = new Date(Date.UTC(year, 2, 31));
  lastSundayOfMarch.setUTCDate(31 - lastSundayOfMarch.getUTCDay());
  const day = lastSundayOfMarch.toISOString().slice(0, 10);
  const dialog = await schedule(page, `${day}T02:30:00`);
  await expect(dialog.getByText("02:30 does not exist that day in Europe/Rome")).toBeVisible();
  await dialog.getByRole("button", { name: "Schedule send" }).click();
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("region", { name: "Conversation" }).getByRole("textbox", { name: "Message" })).toHaveValue("Ora legale.");
});

test("a long thread shows its newest 200 messages, and earlier ones on request", async ({ page }) => {
  test.setTimeout(90_000);
  await signInAsAdmin(page);
  await createPerson(page, `Lea Lunga${suffix}`);
  await page.getByRole("textbox", { name: "Email", exact: true }).fill(`lea.${suffix}@example.it`);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();
  await write(page, "Nota 1", "La prima.");
  const dialog = await schedule(page, romeIn(2 * 24 * 3600 * 1000));
  // The composer's own request, sent again 204 times with other subjects: a thread as long as
  // a year of messages, without typing them all.
  const [first] = await Promise.all([
    page.waitForRequest((r) => r.url().includes("/api/schedule_message") && r.method() === "POST"),
    dialog.getByRole("button", { name: "Schedule send" }).click(),
  ]);
  await expect(item(page, "Nota 1")).toContainText("Scheduled");
  // (The only message yet, so "Nota 1" cannot be "Nota 10".)
  const body = first.postDataJSON();
  for (let n = 2; n <= 205; n++) {
    const again = await page.request.post(first.url(), {
      data: { ...body, draft: { ...body.draft, subject: `Nota ${n}` } },
      headers: { Accept: "application/json" },
    });
    expect(again.ok()).toBe(true);
  }
  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const messages = page.getByRole("list", { name: "Messages" }).getByRole("listitem");
  await expect(messages).toHaveCount(200);
  await expect(messages.first()).toContainText(/Nota 6(?!\d)/);
  await expect(messages.last()).toContainText("Nota 205");
  const earlier = page.getByRole("button", { name: "Show earlier messages" });
  await earlier.click();
  await expect(messages).toHaveCount(205);
  await expect(messages.first()).toContainText(/Nota 1(?!\d)/);
  await expect(earlier).toBeHidden();
});
