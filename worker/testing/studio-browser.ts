/**
 * Helpers of the studio's browser tests (Chromium via playwright-core): the create form, the
 * page's own API calls (with its session cookie), the axe-core check, and screenshots for people to look at.
 * Page code is passed as strings: test files are type-checked without the DOM library.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { ROOT } from "../../infrastructure/paths.ts";
import type { GenerationResource } from "../../shared/api-bodies.ts";

/**
 * Waits until `expression` is truthy in the page. Not `page.waitForFunction`: that polls through
 * `eval`, which the page's CSP (rightly) refuses; `evaluate` goes through the debugging protocol.
 */
export async function until(page: Page, expression: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline) throw new Error(`still false after ${timeoutMs} ms: ${expression}`);
    await Bun.sleep(50);
  }
}

/** The create form's fields a test may set: text fields are typed, `style` and `format` chosen. */
export interface FormFields {
  prompt: string;
  style?: string;
  format?: string;
  width?: number;
  height?: number;
  seed?: number;
}

/** Fills the page's create form as a user would and submits it. */
export async function submitForm(page: Page, fields: FormFields): Promise<void> {
  await page.fill("textarea[name=prompt]", fields.prompt);
  for (const name of ["style", "format"] as const) {
    const value = fields[name];
    if (value !== undefined) await page.selectOption(`select[name=${name}]`, value);
  }
  for (const name of ["width", "height", "seed"] as const) {
    const value = fields[name];
    if (value !== undefined) await page.fill(`input[name=${name}]`, String(value));
  }
  await page.click("button[type=submit]");
}

/** `GET /api/generations/{id}` as the page's user. */
export const getInPage = (page: Page, id: string) =>
  page.evaluate(
    `fetch("/api/generations/${id}").then(async (r) => ({ status: r.status, body: r.status === 200 ? await r.json() : null }))`,
  ) as Promise<{ status: number; body: GenerationResource | null }>;

/** `POST /api/generations` as the page's user; the new id. */
export const submitInPage = async (page: Page, params: Record<string, unknown>): Promise<string> =>
  (
    (await page.evaluate(
      `fetch("/api/generations", { method: "POST", headers: { "content-type": "application/json" }, body: ${JSON.stringify(
        JSON.stringify(params),
      )} }).then((r) => r.json())`,
    )) as { id: string }
  ).id;

/** Waits until each of `ids` has ended, as the page's user sees them. */
export async function waitEnded(page: Page, ids: string[]): Promise<void> {
  for (const id of ids)
    for (;;) {
      const { body } = await getInPage(page, id);
      if (body && ["completed", "failed", "canceled", "expired"].includes(body.status)) break;
      await Bun.sleep(100);
    }
}

const AXE = readFileSync(join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * Runs axe-core (WCAG 2.x A/AA and best practices) on the page as it is; the violations of
 * serious or critical impact. Evaluated through the debugging protocol, which the page's CSP does
 * not govern, so the page keeps its real policy.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate("typeof window.axe !== 'undefined'"))) await page.evaluate(AXE);
  const violations = (await page.evaluate(
    "axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map(({ id, impact, help, nodes }) => ({ id, impact, help, nodes: nodes.map((n) => ({ target: n.target })) })))",
  )) as AxeViolation[];
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** Saves the page as `<dir>/<name>.png` when a folder is given (tests take it from STUDIO_SCREENSHOTS). */
export async function screenshot(page: Page, dir: string | undefined, name: string): Promise<void> {
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}
