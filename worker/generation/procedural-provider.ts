/**
 * The default image source: draws the prompt locally with sharp, no network. The prompt and
 * seed drive every random choice, so the same parameters always give byte-identical images.
 */
import type { Style } from "../../shared/job-states.ts";
import { PREVIEW_SIZE, rasterize } from "../imaging/sharp-image.ts";
import { encodeGenerated } from "./encode-generated.ts";
import type { Artwork, StyleRenderer } from "./procedural/artwork.ts";
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

/** Resolves on a later turn of the event loop, after its timers and I/O have had their chance. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The longest a render holds the event loop before it hands over a turn. */
const SLICE_MS = 10;

/**
 * Runs a renderer to its end in slices of about SLICE_MS. A render is JavaScript on the event
 * loop's thread — a quarter of a second for a 2048² noise alone, over a second with the cores
 * busy — and in one piece it would hold back everything else in the process meanwhile: Kafka
 * fetches and heartbeats, status events, the supervisor's liveness beat.
 */
async function drawInSlices(steps: Generator<void, Artwork, void>, signal: AbortSignal): Promise<Artwork> {
  let sliceStart = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() - sliceStart >= SLICE_MS) {
      await nextTurn();
      signal.throwIfAborted();
      sliceStart = performance.now();
    }
  }
}

export function createProceduralProvider(): GenerationProvider {
  // One render at a time per process, in arrival order, so the first asked is the first done
  // rather than all of them finishing late together.
  let turns: Promise<unknown> = Promise.resolve();
  return {
    name: "procedural",
    async generate({ params, signal, onStage, onPreview }) {
      signal.throwIfAborted();
      onStage("rendering", 10);
      const { width, height } = params;
      const render = turns.then(nextTurn).then(() => {
        signal.throwIfAborted();
        const steps = RENDERERS[params.style]({
          width,
          height,
          random: createRandom(params.prompt, params.seed),
          palette: paletteFor(params.prompt),
        });
        return drawInSlices(steps, signal);
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
