import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { renderStudioBundle, STUDIO_BUNDLE_FILE } from "./build-page.ts";

test("edge/studio/studio-bundle.ts is the current build of the studio's client (npm run build:page)", async () => {
  expect(readFileSync(STUDIO_BUNDLE_FILE, "utf8")).toBe(await renderStudioBundle());
});
