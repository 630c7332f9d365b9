import { expect, test } from "bun:test";
import { createRedis, createRedisSubscriber } from "../redis/redis-client.ts";
import { freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { silentLogger } from "../testing/kafka-test-env.ts";
import { createFanout } from "./fanout.ts";

test("one Redis subscription per channel, shared by watchers, dropped when the last one leaves", async () => {
  const subscriber = await createRedisSubscriber(TEST_REDIS_URL);
  const publisher = await createRedis(TEST_REDIS_URL);
  const fanout = createFanout(subscriber, silentLogger);
  const channel = `${freshPrefix()}events:x`;
  const a: string[] = [];
  const b: string[] = [];
  const leaveA = await fanout.watch(channel, (m) => a.push(m));
  const leaveB = await fanout.watch(channel, (m) => b.push(m));
  expect(fanout.channels()).toBe(1);
  const arrived = async (list: string[], n: number) => {
    while (list.length < n) await Bun.sleep(5);
  };
  expect(await publisher.send("PUBLISH", [channel, "one"])).toBe(1);
  await arrived(b, 1);
  await leaveA();
  expect(await publisher.send("PUBLISH", [channel, "two"])).toBe(1);
  await arrived(b, 2);
  await leaveB();
  expect(fanout.channels()).toBe(0);
  expect(await publisher.send("PUBLISH", [channel, "three"])).toBe(0);
  await Bun.sleep(50);
  expect(a).toEqual(["one"]);
  expect(b).toEqual(["one", "two"]);
  subscriber.close();
  publisher.close();
});

test("a failed subscribe is not cached: the next watcher subscribes again", async () => {
  // The subscriber refuses while its connection is down; here that refusal is made to happen once.
  let failures = 1;
  const real = await createRedisSubscriber(TEST_REDIS_URL);
  const flaky = {
    subscribe: (channel: string, onMessage: (m: string, c: string) => void) =>
      failures-- > 0 ? Promise.reject(new Error("connection down")) : real.subscribe(channel, onMessage),
    unsubscribe: (channel: string) => real.unsubscribe(channel),
    close: () => real.close(),
  };
  const publisher = await createRedis(TEST_REDIS_URL);
  const fanout = createFanout(flaky, silentLogger);
  const channel = `${freshPrefix()}events:y`;
  await expect(fanout.watch(channel, () => {})).rejects.toThrow("connection down");
  expect(fanout.channels()).toBe(0);
  const got: string[] = [];
  const leave = await fanout.watch(channel, (m) => got.push(m));
  expect(await publisher.send("PUBLISH", [channel, "back"])).toBe(1);
  await Bun.sleep(50);
  expect(got).toEqual(["back"]);
  await leave();
  real.close();
  publisher.close();
});
