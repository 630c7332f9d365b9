/** Resolves once `check` holds, polling; throws after `timeoutMs` (tests wait for effects, never for time). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still false after ${timeoutMs} ms: ${check}`);
    await Bun.sleep(20);
  }
}
