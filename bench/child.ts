/**
 * Bench clients run in their own process (this machine has two cores): a client sharing the
 * pipeline's event loop would delay the very responses it times.
 */
import { onInterrupt } from "./on-interrupt.ts";

/** Runs `script` with `plan` as its JSON argument and returns what it printed as JSON. */
export async function runInChild<T>(script: string, plan: unknown): Promise<T> {
  const child = Bun.spawn([process.execPath, script, JSON.stringify(plan)], { stdout: "pipe", stderr: "inherit" });
  const forget = onInterrupt(async () => {
    child.kill();
    await child.exited;
  });
  try {
    const output = await new Response(child.stdout).text();
    if ((await child.exited) !== 0) throw new Error(`${script} exited with ${child.exitCode}`);
    return JSON.parse(output) as T;
  } finally {
    forget();
  }
}

/** In the child: the plan it was given. */
export const planArgument = <T>(): T => JSON.parse(process.argv[2] ?? "{}") as T;
