import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Browser, chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS } from "../../infrastructure/browser/chromium.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { scriptedProvider } from "../testing/scripted-provider.ts";

let p: Pipeline;
let browser: Browser;
// The generation waits at a gate until the page is following it, so the events arrive live.
const provider = scriptedProvider([{ kind: "gate" }]);
beforeAll(async () => {
  p = await startPipeline({ provider });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});
afterAll(async () => {
  await browser.close();
  await p.stop();
});

test("in a real browser: the studio page submits, follows the generation live over WebSocket and shows the image", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const frames: string[] = [];
  page.on("websocket", (ws) => ws.on("framereceived", (frame) => frames.push(String(frame.payload))));
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));

  await page.goto(`${p.edgeUrl}/`);
  const [cookie] = await context.cookies();
  expect(cookie).toMatchObject({ name: "ps_session", httpOnly: true, sameSite: "Lax" });

  await page.fill("textarea[name=prompt]", "a lighthouse at dusk");
  await page.selectOption("select[name=style]", "geometric");
  await page.selectOption("select[name=format]", "png");
  await page.fill("input[name=width]", "320");
  await page.fill("input[name=height]", "256");
  await page.click("button[type=submit]");
  await page.locator("#items li .state", { hasText: "rendering" }).waitFor({ timeout: 30_000 });
  expect(frames.length).toBeGreaterThan(0);
  // The preview arrives inside a live message (a preview message, or the snapshot when the socket
  // opened after it) and shows as a data: URL, which the CSP admits.
  const preview = page.locator("#items li img.preview");
  await preview.waitFor({ timeout: 30_000 });
  expect(await preview.getAttribute("src")).toStartWith("data:image/webp;base64,");
  await page.waitForFunction('document.querySelector("#items li img.preview")?.naturalWidth > 0');
  provider.release();

  const image = page.locator("#items li img.image");
  await image.waitFor({ timeout: 30_000 });
  // Runs in the page; a string, because this file is type-checked without the DOM library.
  await page.waitForFunction(
    'document.querySelector("#items li img.image")?.complete && document.querySelector("#items li img.image").naturalWidth > 0',
  );
  const size = await image.evaluate((img) => {
    const { naturalWidth, naturalHeight } = img as unknown as { naturalWidth: number; naturalHeight: number };
    return [naturalWidth, naturalHeight];
  });
  expect(size).toEqual([320, 256]);
  expect(await page.locator("#items li .state").textContent()).toBe("completed");
  expect(await page.locator("#items li progress").getAttribute("value")).toBe("100");

  const types = frames.map((f) => (JSON.parse(f) as { type: string }).type);
  expect(types[0]).toBe("snapshot");
  expect(types.at(-1)).toBe("completed");
  expect(errors).toEqual([]);

  // A reload lists the generation from the API, already completed, as its thumbnail.
  await page.reload();
  await page.locator("#items li img.image").waitFor({ timeout: 10_000 });
  expect(await page.locator("#items li img.image").getAttribute("src")).toContain(".webp");
  expect(await page.locator("#items li").count()).toBe(1);
  await context.close();
}, 60_000);

test("the studio page refuses to run scripts or connect anywhere but its own services (CSP)", async () => {
  const response = await fetch(`${p.edgeUrl}/`);
  const csp = response.headers.get("content-security-policy") ?? "";
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain(`connect-src 'self' ${new URL(p.liveServers[0]?.url ?? "").origin}`);
  expect(csp).toMatch(/img-src 'self' http:\/\/[^ ;]+ data:/);
});

test("in a real browser: Cancel stops a generation in progress and the page shows it canceled", async () => {
  provider.script.push({ kind: "gate" });
  const page = await browser.newPage();
  await page.goto(`${p.edgeUrl}/`);
  await page.fill("textarea[name=prompt]", "never mind");
  await page.click("button[type=submit]");
  const card = page.locator("#items li").first();
  await card.locator(".state", { hasText: "rendering" }).waitFor({ timeout: 30_000 });
  await card.locator("button.cancel").click();
  provider.release();
  await card.locator(".state", { hasText: "canceled" }).waitFor({ timeout: 30_000 });
  expect(await card.locator("img").count()).toBe(0);
  expect(await card.locator("button.cancel").isHidden()).toBe(true);
  await page.close();
}, 60_000);
