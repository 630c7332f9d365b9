import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Browser, chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS } from "../../infrastructure/browser/chromium.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { scriptedProvider } from "../testing/scripted-provider.ts";
import { getInPage, submitForm, until } from "../testing/studio-browser.ts";

let p: Pipeline;
let browser: Browser;
// The generation waits at a gate until the page is following it, so the events arrive live.
const provider = scriptedProvider([{ kind: "gate" }]);
beforeAll(async () => {
  // One generation at a time, so a second one waits in the queue.
  p = await startPipeline({ provider, maxConcurrent: 1 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});
afterAll(async () => {
  await browser.close();
  await p.stop();
});

test("in a real browser: a tile shows the preview while rendering, then the image; after a reload the gallery lists it by its thumbnail", async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  const frames: string[] = [];
  page.on("websocket", (ws) => ws.on("framereceived", (frame) => frames.push(String(frame.payload))));
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));

  await page.goto(`${p.edgeUrl}/`);
  const [cookie] = await context.cookies();
  expect(cookie).toMatchObject({ name: "ps_session", httpOnly: true, sameSite: "Lax" });

  await submitForm(page, {
    prompt: "a lighthouse at dusk",
    style: "geometric",
    format: "png",
    width: 320,
    height: 256,
  });
  const tile = page.locator("#gallery li.tile").first();
  await tile.locator(".state", { hasText: "rendering" }).waitFor({ timeout: 30_000 });
  const id = ((await tile.getAttribute("id")) ?? "").slice(2);
  expect(frames.length).toBeGreaterThan(0);
  // The preview arrives inside a live message (a preview message, or the snapshot when the socket
  // opened after it) and shows as a data: URL, which the CSP admits.
  const preview = tile.locator("img.preview");
  await preview.waitFor({ state: "visible", timeout: 30_000 });
  expect(await preview.getAttribute("src")).toStartWith("data:image/webp;base64,");
  await until(page, `document.querySelector("#g-${id} img.preview")?.naturalWidth > 0`);
  expect(await tile.locator("img.image").isHidden()).toBe(true);
  expect(await tile.getAttribute("data-status")).toBe("processing");
  expect(await tile.locator(".timings").textContent()).toMatch(/^Running for \d/);
  provider.release();

  const image = tile.locator("img.image");
  await image.waitFor({ state: "visible", timeout: 30_000 });
  await until(
    page,
    `document.querySelector("#g-${id} img.image")?.complete && document.querySelector("#g-${id} img.image").naturalWidth > 0`,
  );
  const { body: done } = await getInPage(page, id);
  if (!done?.image || !done.thumbnail) throw new Error("the generation has no image or thumbnail");
  // The gallery shows the thumbnail; Download takes the image itself.
  expect(await image.getAttribute("src")).toBe(done.thumbnail.url);
  expect(await image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(256);
  expect(await tile.locator("a.download").getAttribute("href")).toBe(done.image.url);
  expect(await tile.locator("a.download").getAttribute("download")).toBe(`pixel-studio-${id}.png`);
  expect(await preview.isHidden()).toBe(true);
  expect(await tile.locator(".state").textContent()).toBe("Completed");
  expect(await tile.locator(".timings").textContent()).toMatch(/^Waited [\d.]+ s · made in [\d.]+ s · total [\d.]+ s$/);
  expect(await tile.getAttribute("data-status")).toBe("completed");
  expect(await page.locator("#announcer").textContent()).toBe("“a lighthouse at dusk”: completed");

  const types = frames.map((f) => (JSON.parse(f) as { type: string; preview?: unknown }).type);
  expect(types[0]).toBe("snapshot");
  expect(types.at(-1)).toBe("completed");
  const previewAt = frames.findIndex((f) => (JSON.parse(f) as { preview?: unknown }).preview !== undefined);
  expect(previewAt).toBeGreaterThanOrEqual(0);
  expect(previewAt).toBeLessThan(types.length - 1);
  expect(errors).toEqual([]);

  // A reload lists the generation from the API, already completed, as its thumbnail.
  await page.reload();
  const listed = page.locator(`#g-${id} img.image`);
  await listed.waitFor({ state: "visible", timeout: 10_000 });
  expect(await listed.getAttribute("src")).toBe(done.thumbnail.url);
  await until(page, `document.querySelector("#g-${id} img.image").naturalWidth > 0`);
  expect(await page.locator("#gallery li.tile").count()).toBe(1);
  expect(await page.locator("#gallery-end").isVisible()).toBe(true);
  expect(await page.locator("#more").isHidden()).toBe(true);
  await context.close();
}, 60_000);

test("the studio page refuses to run scripts or connect anywhere but its own services (CSP)", async () => {
  const response = await fetch(`${p.edgeUrl}/`);
  const csp = response.headers.get("content-security-policy") ?? "";
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain(`connect-src 'self' ${new URL(p.liveServers[0]?.url ?? "").origin}`);
  expect(csp).toMatch(/img-src 'self' http:\/\/[^ ;]+ data:/);
});

/** A new page whose first generation is held rendering at the provider's gate, and its tile. */
async function heldRendering(prompt: string) {
  provider.script.push({ kind: "gate" });
  const page = await browser.newPage();
  await page.goto(`${p.edgeUrl}/`);
  await submitForm(page, { prompt });
  const tile = page.locator("#gallery li.tile").first();
  await tile.locator(".state", { hasText: "rendering" }).waitFor({ timeout: 30_000 });
  return { page, tile };
}

test("in a real browser: Cancel stops a generation in progress and the tile shows it canceled", async () => {
  const { page, tile } = await heldRendering("never mind");
  // Released only once the cancel is recorded: a click returns before its request is answered,
  // and a render released meanwhile could finish first and end completed.
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/cancel")),
    tile.locator("button.cancel").click(),
  ]);
  provider.release();
  await tile.locator(".state", { hasText: "Canceled" }).waitFor({ timeout: 30_000 });
  expect(await tile.locator("img:visible").count()).toBe(0);
  expect(await tile.locator("button.cancel").isHidden()).toBe(true);
  expect(await tile.locator("button.open").isHidden()).toBe(true);
  await page.close();
}, 60_000);

test("in a real browser: a generation waiting behind another shows its place in the queue, then runs", async () => {
  const { page, tile: first } = await heldRendering("first in line");
  await submitForm(page, { prompt: "second in line" });
  const second = page.locator("#gallery li.tile").first();
  await second.locator(".title", { hasText: "second in line" }).waitFor();
  await second.locator(".state", { hasText: "Queued · next to start" }).waitFor({ timeout: 30_000 });
  expect(await second.locator(".timings").textContent()).toMatch(/^Waiting for \d/);
  expect(await second.locator(".placeholder").isVisible()).toBe(true);
  provider.release();
  await second.locator(".state", { hasText: "Completed" }).waitFor({ timeout: 30_000 });
  expect(await first.locator(".state").textContent()).toBe("Completed");
  await page.close();
}, 60_000);
