// What the browser tests share: the first admin's credentials, "wait until the page is live",
// making and opening contacts, the test mailbox and the composer.
import { expect, type Page } from "@playwright/test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const admin = {
  name: "Anna Amministratrice",
  email: "anna@example.it",
  password: "una password lunga e sicura",
};

/** Opens `path` and waits until the wasm app has taken over the server-rendered page (sign-in and
 * setup are plain HTML, marked `data-static`: nothing takes them over). */
export async function open(page: Page, path: string) {
  await page.goto(path);
  await untilLive(page);
  await expectNoNestedForms(page, path);
}

/** Waits until the page on screen is ready for the user: hydrated, or plain HTML. */
export async function untilLive(page: Page) {
  await expect(page.locator("body[data-hydrated='true'], body[data-static='true']")).toHaveCount(1);
}

/** The browser's HTML parser drops a form inside a form, so a server-rendered page with one
 * differs from the app's view of it (hydration fails, depending on how the page was streamed), and
 * Enter in the inner form would submit the outer one. */
export async function expectNoNestedForms(page: Page, what: string) {
  expect(await page.locator("form form").count(), `forms inside forms on ${what}`).toBe(0);
}

/** Signs in as the admin from the sign-in page (setting the workspace up first if it is new). */
export async function signInAsAdmin(page: Page) {
  await open(page, "/login");
  if (new URL(page.url()).pathname === "/setup") {
    await page.getByRole("textbox", { name: "Name" }).fill(admin.name);
    await page.getByRole("textbox", { name: "Email" }).fill(admin.email);
    await page.getByRole("textbox", { name: "Password" }).fill(admin.password);
    await page.getByRole("button", { name: "Create admin" }).click();
  } else {
    await page.getByRole("textbox", { name: "Email" }).fill(admin.email);
    await page.getByRole("textbox", { name: "Password" }).fill(admin.password);
    await page.getByRole("button", { name: "Sign in" }).click();
  }
  await expect(page).toHaveURL(/\/contacts$/);
  await untilLive(page);
}

/** Creates a person called `name` ("First Last") from the list's New contact dialog; ends on
 * their page, live. */
export async function createPerson(page: Page, name: string) {
  const [first, last] = name.split(" ");
  await open(page, "/contacts");
  await page.getByRole("button", { name: "New contact" }).click();
  const dialog = page.getByRole("dialog", { name: "New contact" });
  await dialog.getByRole("textbox", { name: "First name" }).fill(first);
  await dialog.getByRole("textbox", { name: "Last name" }).fill(last);
  await dialog.getByRole("button", { name: "Create contact" }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** Opens the list searched for `q`, then the contact called `name` from it (so previous/next
 * follow that list). */
export async function openFromList(page: Page, q: string, name: string) {
  await open(page, `/contacts?q=${q}`);
  await page.getByRole("link", { name }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** Every email the test SMTP server (aiosmtpd, see ../test.sh) received, as text, with
 * quoted-printable soft line breaks undone so that links read whole. */
export function mails(): string[] {
  const dir = process.env.MAILDIR;
  if (!dir) throw new Error("MAILDIR is not set: run the browser tests through ../test.sh");
  const files = ["new", "cur"].flatMap((sub) => {
    try {
      return readdirSync(join(dir, sub)).map((f) => join(dir, sub, f));
    } catch {
      return [];
    }
  });
  return files.map((f) => readFileSync(f, "utf8").replace(/=\r?\n/g, "").replace(/=3D/g, "="));
}

/** The newest email to `to`, waiting up to 15 s for it. */
export async function mailTo(to: string): Promise<string> {
  let found: string | undefined;
  await expect
    .poll(() => (found = mails().filter((m) => m.includes(to)).pop()), { timeout: 15_000 })
    .toBeTruthy();
  return found!;
}

/** `ms` from now on Rome's wall clock, as a datetime-local input takes it (with seconds). */
export function romeIn(ms: number): string {
  return new Date(Date.now() + ms)
    .toLocaleString("sv-SE", { timeZone: "Europe/Rome" })
    .replace(" ", "T");
}

/** Writes an email in the contact page's composer. */
export async function write(page: Page, subject: string, body: string) {
  const conversation = page.getByRole("region", { name: "Conversation" });
  await conversation.getByRole("radio", { name: "Email" }).check();
  await conversation.getByRole("textbox", { name: "Subject" }).fill(subject);
  await conversation.getByRole("textbox", { name: "Message" }).fill(body);
}

/** Opens the Schedule dialog with a time in a zone filled in. */
export async function schedule(page: Page, at: string, zone = "Europe/Rome") {
  await page.getByRole("region", { name: "Conversation" }).getByRole("button", { name: "Schedule", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Schedule" });
  await dialog.getByLabel("Send at").fill(at);
  await dialog.getByRole("combobox", { name: "Time zone" }).selectOption(zone);
  return dialog;
}
