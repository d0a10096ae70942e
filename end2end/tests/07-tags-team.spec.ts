// Tags and the team: tags made on the fly filter the list (is / is not) and previous/next follow
// the filter; an invited colleague never sees a contact kept private.
import { test, expect, type Page } from "./browser-log";
import { createPerson, mailTo, open, signInAsAdmin } from "./fixtures";

test.describe.configure({ mode: "serial" });

const suffix = Date.now().toString(36).slice(-5);
const people = ["Ada", "Bea", "Cleo", "Dora"].map((first) => `${first} Tag${suffix}`);
const vip = `VIP${suffix}`;

async function addFilter(page: Page, tag: string, condition: "is" | "is not") {
  await page.getByText("Filter by tag").click();
  const select = page.getByRole("combobox", { name: "Tag", exact: true });
  await expect(select.getByRole("option", { name: tag })).toHaveCount(1);
  await select.selectOption({ label: tag });
  await page.getByRole("combobox", { name: "Condition" }).selectOption({ label: condition });
  await page.getByRole("button", { name: "Add filter" }).click();
}

const heading = (page: Page) => page.getByRole("heading", { level: 1 });
const position = (page: Page) => page.getByRole("status").filter({ hasText: / of / });

test("tags are added on the card, made on the fly, and filter the list with previous/next", async ({ page }) => {
  await signInAsAdmin(page);
  for (const name of people) {
    await createPerson(page, name);
    // Ada and Cleo are VIPs: the first time the tag is typed it is created.
    if (name.startsWith("Ada") || name.startsWith("Cleo")) {
      // A text box with suggestions: a combobox.
      const input = page.getByRole("combobox", { name: "Add tag" });
      await input.fill(vip);
      await input.press("Enter");
      await expect(page.getByRole("list", { name: "Tags" }).getByText(vip)).toBeVisible();
      await expect(input).toHaveValue("");
    }
  }

  // Tagged VIP: Ada and Cleo; previous/next walk just those two.
  await open(page, `/contacts?q=Tag${suffix}`);
  await expect(page.getByRole("status").filter({ hasText: "4 contacts match" })).toBeVisible();
  await addFilter(page, vip, "is");
  await expect(page.getByRole("status").filter({ hasText: "2 contacts match" })).toBeVisible();
  await expect(page.getByRole("list", { name: "Filters" })).toContainText(`Tag is ${vip}`);
  await page.getByRole("link", { name: people[0] }).click();
  await expect(heading(page)).toHaveText(people[0]);
  await expect(position(page)).toHaveText("1 of 2");
  await page.getByRole("button", { name: "Next contact" }).click();
  await expect(heading(page)).toHaveText(people[2]);
  await expect(position(page)).toHaveText("2 of 2");
  await expect(page.getByRole("button", { name: "Next contact" })).toBeDisabled();

  // Not VIP: Bea and Dora.
  await open(page, `/contacts?q=Tag${suffix}`);
  await addFilter(page, vip, "is not");
  await expect(page.getByRole("status").filter({ hasText: "2 contacts match" })).toBeVisible();
  await expect(page.getByRole("link", { name: people[0] })).toHaveCount(0);
  await page.getByRole("link", { name: people[1] }).click();
  await expect(position(page)).toHaveText("1 of 2");
  await page.getByRole("button", { name: "Next contact" }).click();
  await expect(heading(page)).toHaveText(people[3]);
  await page.getByRole("button", { name: "Previous contact" }).click();
  await expect(heading(page)).toHaveText(people[1]);

  // The filter comes off with its ×.
  await open(page, `/contacts?q=Tag${suffix}`);
  await addFilter(page, vip, "is");
  await page.getByRole("link", { name: `Remove filter: Tag is ${vip}` }).click();
  await expect(page.getByRole("status").filter({ hasText: "4 contacts match" })).toBeVisible();
});

test("an invited colleague never sees a contact kept private", async ({ page, browser }) => {
  await signInAsAdmin(page);
  // The admin invites Bruno by email (a real SMTP server on this machine receives it).
  await open(page, "/settings/team");
  await page.getByRole("textbox", { name: "Name" }).fill(`Bruno ${suffix}`);
  await page.getByRole("textbox", { name: "Email" }).fill(`bruno.${suffix}@example.it`);
  await page.getByRole("button", { name: "Send invitation" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Email sent to Bruno ${suffix}.` })).toBeVisible();
  const invitation = await mailTo(`bruno.${suffix}@example.it`);
  expect(invitation).toContain("invited you to Rubrica");
  const link = invitation.match(/https?:\/\/[^\s"<]*\/password-reset\/[A-Za-z0-9_-]+/)![0];

  // A contact the admin keeps private, and one shared with the team.
  const secret = `Segreto Priv${suffix}`;
  const shared = `Aperto Priv${suffix}`;
  await createPerson(page, shared);
  await createPerson(page, secret);
  await page.getByRole("combobox", { name: "Visibility" }).selectOption({ label: "Private to owner and followers" });
  await expect(page.getByRole("region", { name: "History" })).toContainText("Visibility: Shared with the team → Private");
  const secretUrl = new URL(page.url()).pathname;

  // Bruno chooses his password from the link and lands in the contacts, signed in.
  const context = await browser.newContext({ extraHTTPHeaders: { "Accept-Language": "en" } });
  const bruno = await context.newPage();
  await open(bruno, new URL(link).pathname);
  await expect(bruno.getByRole("heading", { level: 1, name: "Welcome to Rubrica" })).toBeVisible();
  await bruno.getByRole("textbox", { name: "New password" }).fill("bruno's own password");
  await bruno.getByRole("button", { name: "Save password" }).click();
  await expect(bruno).toHaveURL(/\/contacts$/);

  await open(bruno, `/contacts?q=Priv${suffix}`);
  await expect(bruno.getByRole("status").filter({ hasText: "1 contact matches" })).toBeVisible();
  await expect(bruno.getByRole("link", { name: shared })).toBeVisible();
  await expect(bruno.getByRole("link", { name: secret })).toHaveCount(0);
  await open(bruno, secretUrl);
  await expect(bruno.getByRole("heading", { level: 1, name: "Contact not found" })).toBeVisible();
  await expect(bruno.getByText("Segreto")).toHaveCount(0);

  // The link worked once.
  await open(bruno, new URL(link).pathname);
  await expect(bruno.getByRole("heading", { level: 1, name: "This link no longer works" })).toBeVisible();
  await context.close();
});
