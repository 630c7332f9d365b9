/**
 * The default image source: draws the prompt locally with sharp, no network. The prompt and
 * seed drive every random choice, so the same parameters always give byte-identical images.
 */
import type { Style } from "../../shared/job-states.ts";
import { PREVIEW_SIZE, rasterize } from "../imaging/sharp-image.ts";
import { encodeGenerated } from "./encode-generated.ts";
import type { StyleRenderer } from "./procedural/artwork.ts";
import { renderGeometric } from "./procedural/geometric.ts";
import { renderGradient } from "./procedural/gradient.ts";
import { renderNoise } from "./procedural/noise.ts";
import { paletteFor } from "./procedural/palette.ts";
import { renderPixelArt } from "./procedural/pixel-art.ts";
import { createRandom } from "./procedural/random.ts";
import type { GenerationProvider } from "./provider.ts";

const RENDERERS: Record<Style, StyleRenderer> = {
  "pixel-art": renderPixelArt,
  geometric: renderGeometric,
  gradient: renderGradient,
  noise: renderNoise,
};

/** Resolves on a later turn of the event loop, after its timers have had their chance. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createProceduralProvider(): GenerationProvider {
  // The renderers are synchronous: up to a quarter of a second each at 2048². Renders started
  // together would run back to back in one turn of the event loop and starve its timers (Kafka
  // heartbeats, the supervisor's liveness beat) for as long as all of them take — a dozen at
  // once would pass the 3 s hang limit. Each render waits for a turn of its own.
  let turns: Promise<unknown> = Promise.resolve();
  return {
    name: "procedural",
    async generate({ params, signal, onStage, onPreview }) {
      signal.throwIfAborted();
      onStage("rendering", 10);
      const { width, height } = params;
      const render = turns.then(nextTurn).then(() => {
        signal.throwIfAborted();
        return RENDERERS[params.style]({
          width,
          height,
          random: createRandom(params.prompt, params.seed),
          palette: paletteFor(params.prompt),
        });
      });
      turns = render.catch(() => {});
      const artwork = await render;
      signal.throwIfAborted();
      onStage("rendering", 30);
      if (onPreview) {
        // A coarse render first, as a diffusion model's early steps would show: cheap at this size.
        const scale = Math.min(1, PREVIEW_SIZE / Math.max(width, height)) / 2;
        const small = {
          width: Math.max(8, Math.round(width * scale)),
          height: Math.max(8, Math.round(height * scale)),
        };
        onPreview({ pixels: await rasterize(artwork.source, { ...small, fit: "fill", scaling: artwork.scaling }) });
        signal.throwIfAborted();
      }
      onStage("rendering", 40);
      const pixels = await rasterize(artwork.source, { width, height, fit: "fill", scaling: artwork.scaling });
      signal.throwIfAborted();
      onStage("rendering", 60);
      return encodeGenerated(pixels, params.format, artwork.scaling, { signal, onStage });
    },
  };
}
