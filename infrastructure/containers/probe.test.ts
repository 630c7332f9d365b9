import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../paths.ts";

let status = 200;
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("{}", { status }) });
afterAll(() => server.stop(true));

async function probe(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, join(ROOT, "infrastructure/containers/probe.ts"), ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  return { code, stderr: stderr.trim() };
}

test("healthy on 2xx; unhealthy, saying why, on 503, a redirect or a closed port", async () => {
  const url = `http://127.0.0.1:${server.port}/readyz`;
  expect(await probe([url])).toEqual({ code: 0, stderr: "" });
  status = 503;
  expect(await probe([url])).toEqual({ code: 1, stderr: `${url} answered 503: {}` });
  status = 302;
  expect((await probe([url])).code).toBe(1);
  const closed = await probe(["http://127.0.0.1:1/readyz"]);
  expect(closed.code).toBe(1);
  expect(closed.stderr).toStartWith("http://127.0.0.1:1/readyz did not answer:");
});

test("without an argument it probes the worker's /readyz on WORKER_INTERNAL_PORT, not the public WS_PORT", async () => {
  status = 200;
  const internal = { WORKER_INTERNAL_PORT: String(server.port) };
  expect((await probe([], internal)).code).toBe(0);
  status = 503;
  expect((await probe([], internal)).stderr).toBe(`http://127.0.0.1:${server.port}/readyz answered 503: {}`);
  // The public port answers 404 for /readyz: the probe must not be pointed at it.
  status = 200;
  const publicOnly = await probe([], { WS_PORT: String(server.port), WORKER_INTERNAL_PORT: "1" });
  expect(publicOnly.code).toBe(1);
  expect(publicOnly.stderr).toStartWith("http://127.0.0.1:1/readyz did not answer:");
});
