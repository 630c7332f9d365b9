/**
 * The Redis ACL user the REST bridge connects as: on, with its password, only keys under the
 * project's prefix (`~ps:*`, inside Lua scripts too), no channels (the bridge publishes
 * nothing), and only the commands a REST client may send plus the few the bridge itself uses on
 * its connections. `ACL SETUSER … reset …` rewrites the whole user, so applying it again (every
 * `npm start`) changes nothing, or brings a drifted user back to this.
 */
import type { Redis } from "../redis/redis-client.ts";
import { REST_COMMANDS, REST_SUBCOMMANDS } from "./command-policy.ts";

/** What the bridge sends on its own: its connection name, and MULTI/EXEC for /multi-exec. */
const BRIDGE_OWN_COMMANDS = ["client|setname", "multi", "exec", "discard"];

/** A Redis glob matching keys that start with `prefix` literally. */
const globPrefix = (prefix: string) => `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;

export function bridgeUserRules(options: { password: string; prefix: string }): string[] {
  const commands = [
    ...REST_COMMANDS.map((c) => c.toLowerCase()),
    ...Object.entries(REST_SUBCOMMANDS).flatMap(([name, subs]) => subs.map((s) => `${name}|${s}`.toLowerCase())),
    ...BRIDGE_OWN_COMMANDS,
  ];
  return [
    "reset",
    "on",
    `>${options.password}`,
    `~${globPrefix(options.prefix)}`,
    "resetchannels",
    "-@all",
    ...commands.map((c) => `+${c}`),
  ];
}

/** Creates or resets the bridge's user through an administrative connection. */
export async function ensureBridgeUser(
  admin: Redis,
  options: { username: string; password: string; prefix: string },
): Promise<void> {
  await admin.send("ACL", ["SETUSER", options.username, ...bridgeUserRules(options)]);
}

/** REDIS_URL with the bridge user's credentials in it. */
export function bridgeRedisUrl(redisUrl: string, credentials: { username: string; password: string }): string {
  const url = new URL(redisUrl);
  url.username = encodeURIComponent(credentials.username);
  url.password = encodeURIComponent(credentials.password);
  return url.toString();
}
