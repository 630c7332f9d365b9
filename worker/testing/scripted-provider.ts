/**
 * A provider for pipeline tests that wraps the real procedural one and follows a script per
 * call, taking the next step from `script` (then "ok"): fail (transient or permanent), hang
 * until aborted, or wait at a gate between stages.
 * It is our own code standing in for a slow or flaky model, not a mock of our infrastructure.
 */
import { PipelineError } from "../../shared/errors.ts";
import { createProceduralProvider } from "../generation/procedural-provider.ts";
import type { GenerationInput, GenerationProvider } from "../generation/provider.ts";

export type Step =
  | { kind: "ok" }
  | { kind: "transient" }
  | { kind: "permanent" }
  | { kind: "hang" }
  /**
   * Reports "rendering" and shows a preview (a flat grey square), then waits for `release()` before
   * finishing. With `held`, it first waits for a `release()` before reporting anything, so a test
   * can be watching before the preview appears.
   */
  | { kind: "gate"; held?: boolean };

const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });

export function scriptedProvider(script: Step[]) {
  const real = createProceduralProvider();
  let calls = 0;
  let open: () => void = () => {};
  let gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const prompts: string[] = [];
  const provider: GenerationProvider & {
    readonly calls: number;
    /** The prompt of each call, in the order generations started. */
    readonly prompts: string[];
    script: Step[];
    release(): void;
  } = {
    name: "scripted",
    script,
    get calls() {
      return calls;
    },
    prompts,
    release() {
      open();
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
    },
    async generate(input: GenerationInput) {
      calls++;
      prompts.push(input.params.prompt);
      const step = script.shift() ?? { kind: "ok" };
      if (step.kind === "transient")
        throw new PipelineError("provider_unavailable", "model busy (503)", { retryable: true });
      if (step.kind === "permanent")
        throw new PipelineError("content_policy", "the prompt was refused by the safety system", { retryable: false });
      if (step.kind === "hang") return untilAborted(input.signal);
      if (step.kind === "gate") {
        if (step.held) await Promise.race([gate, untilAborted(input.signal)]);
        input.onStage("rendering", 30);
        input.onPreview?.({
          pixels: { data: new Uint8Array(32 * 32 * 3).fill(128), width: 32, height: 32, channels: 3 },
        });
        await Promise.race([gate, untilAborted(input.signal)]);
        input.onStage("rendering", 60);
      }
      return real.generate(input);
    },
  };
  return provider;
}
