/** `npm run token -- <user-id> [ttl-seconds]`: prints an API bearer token for that user. */

import { mintApiToken } from "../edge/auth.ts";
import { parseConfig } from "../shared/config/parse-config.ts";

const [userId, ttl] = process.argv.slice(2);
if (!userId) {
  console.error("usage: npm run token -- <user-id> [ttl-seconds]");
  process.exit(2);
}
const config = parseConfig(process.env, ["auth"]);
console.log(await mintApiToken(userId, config.auth.jwtSecret, ttl ? Number(ttl) : undefined));
