// Every browser test runs with this `test`: what the pages said on the console (errors and
// warnings) and any uncaught error — a wasm panic shows up as one — is printed and attached when a
// test fails, so a failure that happened on a loaded machine once can be read afterwards.
import { test as base } from "@playwright/test";

export { expect, type Page } from "@playwright/test";

export const test = base.extend<{ browserLog: void }>({
  browserLog: [
    async ({ context }, use, testInfo) => {
      const lines: string[] = [];
      const started = Date.now();
      const at = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
      context.on("weberror", (e) => {
        const error = e.error();
        lines.push(`${at()} uncaught on ${e.page()?.url() ?? "?"}: ${error.stack ?? error.message}`);
      });
      const pending: Promise<void>[] = [];
      context.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") {
          const line = `${at()} console ${m.type()} on ${m.page()?.url() ?? "?"}: `;
          // A DOM node among the arguments (Leptos names the node a hydration error found) is
          // written out with what precedes it, so the message can be read without a debugger.
          pending.push(
            Promise.all(
              m.args().map((a) =>
                a
                  .evaluate((v) =>
                    v instanceof Node
                      ? `[${v.nodeName} ${(v as Element).outerHTML ?? JSON.stringify(v.textContent)} after ${
                          (v.previousSibling as Element | null)?.outerHTML ?? v.previousSibling?.nodeName ?? "nothing"
                        } in <${v.parentElement?.tagName} class="${v.parentElement?.className}">]`.slice(0, 2000)
                      : String(v),
                  )
                  .catch(() => "?"),
              ),
            ).then((args) => {
              lines.push(line + (args.length > 0 ? args.join(" ") : m.text()));
            }),
          );
        }
      });
      await use();
      // A page whose main thread is stuck never answers: its nodes are not worth the timeout.
      await Promise.race([Promise.all(pending), new Promise((done) => setTimeout(done, 3000))]);
      if (lines.length > 0 && testInfo.status !== testInfo.expectedStatus) {
        const log = lines.join("\n");
        console.log(`The browser said, during "${testInfo.title}":\n${log}`);
        await testInfo.attach("browser-log", { body: log, contentType: "text/plain" });
      }
    },
    { auto: true },
  ],
});
