/**
 * A container health check without curl (the slim Bun image has none): GETs the URL given as
 * the only argument, by default the worker's /readyz on its internal port (WORKER_INTERNAL_PORT;
 * the public WS_PORT does not serve it), and exits 0 on a 2xx answer, 1 otherwise with one line
 * saying why. Used by the image's HEALTHCHECK, compose and ECS.
 */
async function probe(url: string): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(4000), redirect: "manual" });
    if (response.status >= 200 && response.status < 300) return 0;
    console.error(`${url} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
  } catch (error) {
    console.error(`${url} did not answer: ${error instanceof Error ? error.message : String(error)}`);
  }
  return 1;
}

void probe(process.argv[2] ?? `http://127.0.0.1:${process.env.WORKER_INTERNAL_PORT || "3002"}/readyz`).then((code) =>
  process.exit(code),
);
