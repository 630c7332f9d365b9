/**
 * Connections whose Redis vanished without closing them (a network cut, a frozen host). A
 * subscriber only finds that with its own PING, since pub/sub never sends; a command connection
 * by a command that goes unanswered. Between the subscriber and the real
 * Redis sits a loopback TCP relay this test controls; cutting it keeps the socket open and drops
 * every byte both ways, as a dead network path does. Each must replace its connection on its own.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket } from "bun";
import { createRedis, createRedisSubscriber, type Redis } from "./redis-client.ts";
import { freshPrefix, TEST_REDIS_URL } from "./redis-test-env.ts";

type Link = { upstream?: Socket<unknown>; pending: Uint8Array[] };
const redisPort = Number(new URL(TEST_REDIS_URL).port || 6379);
let redis: Redis;
const accepted = new Set<Socket<Link>>();
/** Connections accepted before the cut: from then on they forward nothing, but stay open. */
const cut = new Set<Socket<Link>>();

const relay = Bun.listen<Link>({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(client) {
      client.data = { pending: [] };
      accepted.add(client);
      void Bun.connect({
        hostname: "127.0.0.1",
        port: redisPort,
        socket: {
          data(_upstream, chunk) {
            if (!cut.has(client)) client.write(chunk);
          },
          close() {
            if (!cut.has(client)) client.end();
          },
        },
      }).then((upstream) => {
        client.data.upstream = upstream as Socket<unknown>;
        for (const chunk of client.data.pending) upstream.write(chunk);
      });
    },
    data(client, chunk) {
      if (cut.has(client)) return;
      if (client.data.upstream) client.data.upstream.write(chunk);
      else client.data.pending.push(new Uint8Array(chunk));
    },
    close(client) {
      if (!cut.has(client)) client.data.upstream?.end();
    },
  },
});
beforeAll(async () => {
  redis = await createRedis(TEST_REDIS_URL);
});
afterAll(() => {
  redis.close();
  relay.stop(true);
});

test("a connection that went silent is found by PING and replaced; the channel is subscribed again", async () => {
  const channel = `${freshPrefix()}heartbeat`;
  let resubscribed: (channels: string[]) => void = () => {};
  const back = new Promise<string[]>((resolve) => {
    resubscribed = resolve;
  });
  const subscriber = await createRedisSubscriber(`redis://127.0.0.1:${relay.port}`, {
    heartbeatMs: 200,
    reconnectBaseMs: 10,
    onResubscribed: (channels) => resubscribed(channels),
  });
  const received: string[] = [];
  try {
    await subscriber.subscribe(channel, (message) => received.push(message));
    expect(await redis.send("PUBLISH", [channel, "before"])).toBe(1);
    while (received.length === 0) await Bun.sleep(10);

    // The network path dies: the established connection stays open and carries nothing.
    for (const client of accepted) cut.add(client);
    expect(await back).toEqual([channel]);
    // Published after the cut: only a new connection can carry it.
    const subscribers = Number(await redis.send("PUBLISH", [channel, "after"]));
    expect(subscribers).toBeGreaterThanOrEqual(1);
    while (!received.includes("after")) await Bun.sleep(10);
    expect(received).toEqual(["before", "after"]);
  } finally {
    subscriber.close();
  }
}, 30_000);

test("a command connection that went silent fails its command within the timeout, and the next command reconnects", async () => {
  accepted.clear();
  const viaRelay = await createRedis(`redis://127.0.0.1:${relay.port}`, { commandTimeoutMs: 300 });
  try {
    expect(await viaRelay.send("PING", [])).toBe("PONG");
    for (const client of accepted) cut.add(client);
    const error = (await viaRelay.send("PING", []).catch((e: unknown) => e)) as { code?: string; retryable?: boolean };
    expect(error).toMatchObject({ code: "redis_unavailable", retryable: true });
    // A fresh connection through the relay (only the old one is cut) answers again.
    expect(await viaRelay.send("PING", [])).toBe("PONG");
  } finally {
    viaRelay.close();
  }
});
