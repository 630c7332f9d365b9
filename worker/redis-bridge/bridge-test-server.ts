/**
 * Test fixture: the bridge served on an ephemeral loopback port over the real Redis, as a fresh
 * ACL user confined to a fresh key prefix, with a fresh token, and the log lines it wrote.
 */
import { createLogger } from "../../shared/logger.ts";
import { createRedis, type Redis } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { bridgeRedisUrl, ensureBridgeUser } from "./bridge-user.ts";
import { createRedisRestBridge, type RedisRestBridgeOptions } from "./redis-rest-bridge.ts";

export interface TestBridge {
  url: string;
  token: string;
  prefix: string;
  /** The ACL user the bridge connects as. */
  user: TestBridgeUser;
  /** A direct, administrative connection, to check what the bridge wrote. */
  redis: Redis;
  logs: string[];
  stop(): Promise<void>;
}

export interface TestBridgeUser {
  username: string;
  password: string;
  /** The Redis URL with this user's credentials. */
  url: string;
  drop(): Promise<void>;
}

/** A fresh bridge ACL user on the shared Redis (or `redisUrl`), confined to `prefix` exactly as production's is. */
export async function createTestBridgeUser(prefix: string, redisUrl = TEST_REDIS_URL): Promise<TestBridgeUser> {
  const admin = await createRedis(redisUrl);
  const username = `test-bridge-${crypto.randomUUID().slice(0, 8)}`;
  const password = crypto.randomUUID();
  try {
    await ensureBridgeUser(admin, { username, password, prefix });
  } finally {
    admin.close();
  }
  return {
    username,
    password,
    url: bridgeRedisUrl(redisUrl, { username, password }),
    async drop() {
      const again = await createRedis(redisUrl);
      await again.send("ACL", ["DELUSER", username]).finally(() => again.close());
    },
  };
}

export async function startTestBridge(
  options: Pick<RedisRestBridgeOptions, "maxBodyBytes" | "maxTransactionConnections"> = {},
): Promise<TestBridge> {
  const redis = await createRedis(TEST_REDIS_URL);
  const token = `${crypto.randomUUID()}${crypto.randomUUID()}`.replaceAll("-", "");
  const prefix = freshPrefix();
  const user = await createTestBridgeUser(prefix);
  const bridgeRedis = await createRedis(user.url);
  const logs: string[] = [];
  const bridge = createRedisRestBridge({
    ...options,
    redis: bridgeRedis,
    openTransactionConnection: () => createRedis(user.url),
    token,
    logger: createLogger({ sink: (_level, line) => logs.push(line) }),
  });
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: bridge.app.fetch });
  return {
    url: `http://127.0.0.1:${server.port}`,
    token,
    prefix,
    user,
    redis,
    logs,
    async stop() {
      await server.stop(true);
      bridge.close();
      bridgeRedis.close();
      await deleteKeys(redis, prefix);
      await user.drop();
      redis.close();
    },
  };
}
