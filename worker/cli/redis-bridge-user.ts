/**
 * `npm run redis:bridge-user`: creates or resets the Redis ACL user the REST bridge connects as
 * (REDIS_BRIDGE_USERNAME / REDIS_BRIDGE_PASSWORD, confined to REDIS_KEY_PREFIX), through REDIS_URL's
 * administrative login. Running it again changes nothing. `npm start` does this itself.
 */
import { errorMessage } from "../../shared/errors.ts";
import { createRedis } from "../redis/redis-client.ts";
import { ensureBridgeUser } from "../redis-bridge/bridge-user.ts";
import { configOrExit } from "../runtime/entry.ts";

const config = configOrExit(process.env, ["redis", "redisBridge", "keys"]);
try {
  const admin = await createRedis(config.redis.url, { name: "bridge-user-setup" });
  try {
    await ensureBridgeUser(admin, { ...config.redisBridge, prefix: config.keys.redisPrefix });
  } finally {
    admin.close();
  }
  console.log(`redis: bridge user ${config.redisBridge.username} limited to keys ${config.keys.redisPrefix}*`);
} catch (error) {
  console.error(`redis:bridge-user failed: ${errorMessage(error)}`);
  process.exitCode = 1;
}
