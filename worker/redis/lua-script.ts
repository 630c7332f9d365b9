import type { Redis } from "./redis-client.ts";

/**
 * A Lua script run by SHA (EVALSHA), loading it on the first NOSCRIPT so a Redis restart or a
 * script flush costs one extra round trip, never an error.
 */
export function luaScript(source: string) {
  const sha = new Bun.CryptoHasher("sha1").update(source).digest("hex");
  return async (redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> => {
    const argv = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await redis.send("EVALSHA", [sha, ...argv]);
    } catch (error) {
      if (!String((error as Error).message).includes("NOSCRIPT")) throw error;
      return redis.send("EVAL", [source, ...argv]);
    }
  };
}
