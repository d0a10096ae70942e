// Three Rubrica instances on one PostgreSQL behind nginx (../../scale.sh), round robin with no
// sticky sessions: consecutive requests land on different instances and the work still flows;
// scheduled emails are each sent exactly once while instances are stopped and started.
import { test, expect, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { createPerson, mails, openFromList, romeIn, schedule, signInAsAdmin, write } from "../tests/fixtures";

test.describe.configure({ mode: "serial" });
test.use({ timezoneId: "Europe/Rome" });

const suffix = `S${Date.now().toString(36).slice(-5)}`;
const names = ["Lena", "Milo", "Nora"].map((first) => `${first} ${suffix}`);
const address = `lena.${suffix.toLowerCase()}@example.it`;

/** Collects which instance answered each of the page's requests (nginx's X-Upstream). */
function answeredBy(page: Page): string[] {
  const seen: string[] = [];
  page.on("response", (response) => {
    // nginx lists every instance it tried ("a, b" when a stopped one refused first): the last
    // one answered.
    const upstream = response.headers()["x-upstream"]?.split(",").pop()?.trim();
    if (upstream) seen.push(upstream);
  });
  return seen;
}

function instance(action: "stop" | "start", n: number) {
  execFileSync(process.env.SCALE_INSTANCE!, [action, String(n)], { stdio: "inherit" });
}

/** How many emails the SMTP server holds with each subject. */
function subjects(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const mail of mails()) {
    const subject = /^Subject: (.*)$/m.exec(mail)?.[1]?.trim();
    if (subject) counts.set(subject, (counts.get(subject) ?? 0) + 1);
  }
  return counts;
}

test("sign-in, the list, the contact page, previous/next and editing work whichever instance answers", async ({ page }) => {
  const seen = answeredBy(page);
  await signInAsAdmin(page);
  for (const name of names) await createPerson(page, name);

  await openFromList(page, suffix, names[0]);
  await expect(page.getByRole("status").filter({ hasText: / of / })).toHaveText("1 of 3");
  await page.getByRole("button", { name: "Next contact" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(names[1]);
  await page.getByRole("button", { name: "Next contact" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(names[2]);
  await page.getByRole("button", { name: "Previous contact" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(names[1]);

  await openFromList(page, suffix, names[0]);
  await page.getByRole("textbox", { name: "Email", exact: true }).fill(address);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();
  // Read back three times: each read may come from another instance, all hold the same.
  for (let i = 0; i < 3; i++) {
    await openFromList(page, suffix, names[0]);
    await expect(page.getByRole("textbox", { name: "Email", exact: true })).toHaveValue(address);
  }

  expect(new Set(seen).size, `instances seen: ${[...new Set(seen)].join(", ")}`).toBe(3);
});

test("scheduled emails are each sent exactly once while instances stop and start", async ({ page }) => {
  const seen = answeredBy(page);
  await signInAsAdmin(page);
  await openFromList(page, suffix, names[0]);

  // The first through the composer, due in 20 s: its request is the model for the others.
  const start = Date.now() + 20_000;
  await write(page, `Wave ${suffix} 0`, "Il primo di tanti.");
  const dialog = await schedule(page, romeIn(start - Date.now()));
  const request = page.waitForRequest((r) => r.method() === "POST" && r.url().includes("schedule_message"));
  await dialog.getByRole("button", { name: "Schedule send" }).click();
  const model = await request;
  const first = page.getByRole("list", { name: "Messages" }).getByRole("listitem").filter({ hasText: `Wave ${suffix} 0` });
  await expect(first).toContainText("Scheduled");

  // 300 more through nginx (so through all three instances), due over the 15 s after the first.
  const count = 300;
  const body = model.postDataJSON();
  for (let i = 1; i <= count; i++) {
    const response = await page.request.post(model.url(), {
      headers: { "content-type": "application/json", accept: "application/json" },
      data: {
        ...body,
        draft: { ...body.draft, subject: `Wave ${suffix} ${i}`, body: `Messaggio numero ${i}.` },
        local: romeIn(start - Date.now() + 1_000 + (i % 15) * 1_000),
      },
    });
    expect(response.ok(), await response.text()).toBe(true);
  }
  expect(Date.now(), "scheduling took longer than the 20 s before the first is due").toBeLessThan(start);

  // While they are due: each instance in turn is stopped (mid-send, most likely) and started.
  await page.waitForTimeout(start - Date.now() + 1_500);
  for (const n of [1, 2, 3]) {
    instance("stop", n);
    await page.waitForTimeout(2_000);
    instance("start", n);
  }

  const wanted = [...Array(count + 1).keys()].map((i) => `Wave ${suffix} ${i}`);
  await expect
    .poll(() => wanted.filter((s) => subjects().has(s)).length, { timeout: 120_000, intervals: [1_000] })
    .toBe(count + 1);
  // Anything sent twice would have arrived by now too.
  await page.waitForTimeout(3_000);
  const counts = subjects();
  const twice = wanted.filter((s) => counts.get(s) !== 1);
  expect(twice, "sent more than once").toEqual([]);

  // The database agrees: every one is Sent, none waiting, claimed or failed.
  const statuses = execFileSync("psql", [
    "-tA",
    process.env.SCALE_DATABASE_URL!,
    "-c",
    `SELECT status, COUNT(*) FROM messages WHERE subject LIKE 'Wave ${suffix} %' GROUP BY status`,
  ]).toString().trim();
  expect(statuses).toBe(`sent|${count + 1}`);
  // And the page shows it by itself, having asked whichever instance nginx chose (the thread
  // shows the newest 200).
  const thread = page.getByRole("list", { name: "Messages" }).getByRole("listitem");
  await expect(thread.filter({ hasText: `Wave ${suffix} ${count}` })).toContainText("Sent", { timeout: 30_000 });
  await expect(thread.filter({ hasText: "Scheduled" })).toHaveCount(0);
  expect(new Set(seen).size, `instances seen: ${[...new Set(seen)].join(", ")}`).toBe(3);
});
