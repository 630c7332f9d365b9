import { afterAll, expect, test } from "bun:test";
import { serveReadiness } from "./readiness-server.ts";

let failing: string[] = ["kafka-consumer"];
const server = serveReadiness({ host: "127.0.0.1", port: 0, notReady: () => failing });
const url = `http://127.0.0.1:${server.port}`;
afterAll(() => server.stop());

test("/readyz answers 503 naming what is not ready, then 200 once it is", async () => {
  const before = await fetch(`${url}/readyz`);
  expect(before.status).toBe(503);
  expect(await before.json()).toEqual({ status: "not-ready", failing: ["kafka-consumer"] });
  failing = [];
  const after = await fetch(`${url}/readyz`);
  expect(after.status).toBe(200);
  expect(await after.json()).toEqual({ status: "ready" });
});

test("liveness is always ok; nothing else is served", async () => {
  failing = ["kafka-consumer"];
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  expect((await fetch(`${url}/metrics`)).status).toBe(404);
  expect((await fetch(`${url}/readyz`, { method: "POST" })).status).toBe(405);
});
