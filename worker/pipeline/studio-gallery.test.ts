import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS } from "../../infrastructure/browser/chromium.ts";
import { STYLES } from "../../shared/job-states.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { scriptedProvider } from "../testing/scripted-provider.ts";
import {
  getInPage,
  screenshot,
  seriousAxeViolations,
  submitForm,
  submitInPage,
  until,
  waitEnded,
} from "../testing/studio-browser.ts";

let p: Pipeline;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const provider = scriptedProvider([]);
const SHOTS = process.env.STUDIO_SCREENSHOTS;
const errors: string[] = [];
const PROMPTS = ["harbour", "orchard", "glacier", "market", "comet", "meadow", "canyon", "lantern"];

// One user (one browser context, one session cookie) across the tests, its gallery growing.
beforeAll(async () => {
  p = await startPipeline({ provider, maxConcurrent: 8 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  page = await context.newPage();
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`${p.edgeUrl}/`);
});
afterAll(async () => {
  await browser.close();
  await p.stop();
});

const tiles = () => page.locator("#gallery li.tile");
const tileIds = async () => await tiles().evaluateAll((all) => all.map((t) => (t as unknown as { id: string }).id));

test("in a real browser: the gallery loads a page of thumbnails, newest first, and the next pages as its end scrolls into view", async () => {
  const ids: string[] = [];
  for (let i = 0; i < 15; i++)
    ids.push(
      await submitInPage(page, {
        prompt: `${PROMPTS[i % PROMPTS.length]} ${i + 1}`,
        style: STYLES[i % STYLES.length],
        width: 512,
        height: 512,
        format: "webp",
        seed: 1000 + i,
      }),
    );
  await waitEnded(page, ids);
  await page.reload();
  await tiles().nth(11).locator("img.image").waitFor({ state: "visible", timeout: 10_000 });
  // One page (12) while the end is out of view.
  expect(await tiles().count()).toBe(12);
  expect(await page.locator("#gallery-end").isHidden()).toBe(true);
  await until(
    page,
    `[...document.querySelectorAll("#gallery img.image")].every((img) => img.complete && img.naturalWidth === 256)`,
  );
  await screenshot(page, SHOTS, "gallery");

  await page.locator("#more").scrollIntoViewIfNeeded();
  await page.locator("#gallery-end").waitFor({ state: "visible", timeout: 10_000 });
  expect(await tileIds()).toEqual(ids.toReversed().map((id) => `g-${id}`));
  expect(await page.locator("#more").isHidden()).toBe(true);
  expect(errors).toEqual([]);
}, 90_000);

test("in a real browser: Retry resubmits a failed generation's parameters and the new one completes", async () => {
  provider.script.push({ kind: "permanent" });
  await page.evaluate("scrollTo(0, 0)");
  await submitForm(page, { prompt: "a refused prompt", style: "noise", width: 384, height: 256, seed: 77 });
  const failed = tiles().first();
  await failed.locator(".state", { hasText: "Failed" }).waitFor({ timeout: 30_000 });
  expect(await failed.locator(".state").textContent()).toBe("Failed: The image provider refused this prompt");
  expect(await page.locator("#announcer").textContent()).toBe("“a refused prompt”: failed");
  const failedId = ((await failed.getAttribute("id")) ?? "").slice(2);

  await failed.locator("button.retry").click();
  const retried = tiles().first();
  await until(page, `document.querySelector("#gallery li.tile").id !== "g-${failedId}"`);
  await retried.locator("img.image").waitFor({ state: "visible", timeout: 30_000 });
  const retriedId = ((await retried.getAttribute("id")) ?? "").slice(2);
  const [before, after] = await Promise.all([getInPage(page, failedId), getInPage(page, retriedId)]);
  expect(after.body?.status).toBe("completed");
  expect(before.body?.status).toBe("failed");
  expect(after.body?.params).toEqual(before.body?.params as NonNullable<typeof before.body>["params"]);
  expect(after.body?.params).toMatchObject({ prompt: "a refused prompt", style: "noise", width: 384, seed: 77 });
  // The failed one stays, below its retry, until deleted.
  expect((await tileIds()).slice(0, 2)).toEqual([`g-${retriedId}`, `g-${failedId}`]);
}, 60_000);

test("keyboard: Enter opens the larger view, Escape closes it, Delete asks first and deletes only when confirmed", async () => {
  const first = tiles().first();
  const id = ((await first.getAttribute("id")) ?? "").slice(2);
  await first.focus();
  await page.keyboard.press("Enter");
  const viewer = page.locator("#viewer");
  await viewer.waitFor({ state: "visible" });
  const { body } = await getInPage(page, id);
  expect(await page.locator("#viewer-image").getAttribute("src")).toBe(body?.image?.url ?? "missing");
  expect(await page.locator("#viewer-download").getAttribute("href")).toBe(body?.image?.url ?? "missing");
  await until(page, `document.querySelector("#viewer-image").naturalWidth === 384`);
  await page.keyboard.press("Escape");
  await viewer.waitFor({ state: "hidden" });
  expect(await page.evaluate("document.activeElement.id")).toBe(`g-${id}`);

  // Arrow keys move between tiles; Space opens too.
  await page.keyboard.press("ArrowRight");
  const secondId = (await page.evaluate("document.activeElement.id")) as string;
  expect(secondId).toBe((await tileIds())[1] ?? "none");
  await page.keyboard.press("ArrowLeft");
  expect(await page.evaluate("document.activeElement.id")).toBe(`g-${id}`);

  const dialog = page.locator("#confirm-delete");
  await page.keyboard.press("Delete");
  await dialog.waitFor({ state: "visible" });
  expect(await page.locator("#confirm-title").textContent()).toBe("Delete “a refused prompt”?");
  // The safe answer has the focus: Enter keeps it.
  await page.keyboard.press("Enter");
  await dialog.waitFor({ state: "hidden" });
  expect(await page.locator(`#g-${id}`).count()).toBe(1);
  expect((await getInPage(page, id)).status).toBe(200);

  await first.focus();
  await page.keyboard.press("Delete");
  await dialog.waitFor({ state: "visible" });
  await dialog.locator("button.danger").click();
  await page.locator(`#g-${id}`).waitFor({ state: "detached", timeout: 10_000 });
  expect((await getInPage(page, id)).status).toBe(404);
  expect(await page.locator("#announcer").textContent()).toBe("Deleted “a refused prompt”");
  // The focus moves on to the next tile, not back to the top of the page.
  expect(await page.evaluate("document.activeElement.id")).toBe(secondId);

  // After a reload it stays gone.
  await page.reload();
  await tiles().first().waitFor();
  expect(await page.locator(`#g-${id}`).count()).toBe(0);
}, 60_000);

test("axe-core finds no serious or critical violation: the gallery, a tile in progress, the open view, the delete question", async () => {
  provider.script.push({ kind: "gate" });
  await submitForm(page, { prompt: "a slow one" });
  const running = tiles().first();
  await running.locator("img.preview").waitFor({ state: "visible", timeout: 30_000 });
  await screenshot(page, SHOTS, "in-progress");
  expect(await seriousAxeViolations(page)).toEqual([]);

  const done = page.locator(`#gallery li.tile[data-status="completed"]`).first();
  await done.focus();
  await page.keyboard.press("Space");
  await page.locator("#viewer").waitFor({ state: "visible" });
  expect(await seriousAxeViolations(page)).toEqual([]);
  await page.keyboard.press("Escape");

  await page.keyboard.press("Delete");
  await page.locator("#confirm-delete").waitFor({ state: "visible" });
  expect(await seriousAxeViolations(page)).toEqual([]);
  await page.keyboard.press("Escape");
  provider.release();
  await running.locator("img.image").waitFor({ state: "visible", timeout: 30_000 });
  expect(errors).toEqual([]);
}, 60_000);
