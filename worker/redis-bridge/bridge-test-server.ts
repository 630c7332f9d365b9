/**
 * Test fixture: the bridge served on an ephemeral loopback port over the real Redis, with a
 * fresh token and key prefix, and the log lines it wrote.
 */
import { createLogger } from "../../shared/logger.ts";
import { createRedis, type Redis } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { createRedisRestBridge, type RedisRestBridgeOptions } from "./redis-rest-bridge.ts";

export interface TestBridge {
  url: string;
  token: string;
  prefix: string;
  /** A direct connection, to check what the bridge wrote. */
  redis: Redis;
  logs: string[];
  stop(): Promise<void>;
}

export async function startTestBridge(
  options: Pick<RedisRestBridgeOptions, "maxBodyBytes" | "maxTransactionConnections"> = {},
): Promise<TestBridge> {
  const redis = await createRedis(TEST_REDIS_URL);
  const token = `${crypto.randomUUID()}${crypto.randomUUID()}`.replaceAll("-", "");
  const prefix = freshPrefix();
  const logs: string[] = [];
  const bridge = createRedisRestBridge({
    ...options,
    redis,
    openTransactionConnection: () => createRedis(TEST_REDIS_URL),
    token,
    logger: createLogger({ sink: (_level, line) => logs.push(line) }),
  });
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: bridge.app.fetch });
  return {
    url: `http://127.0.0.1:${server.port}`,
    token,
    prefix,
    redis,
    logs,
    async stop() {
      await server.stop(true);
      bridge.close();
      await deleteKeys(redis, prefix);
      redis.close();
    },
  };
}
