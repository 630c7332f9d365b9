/** `npm run token -- <user-id> [ttl-seconds]`: prints an API bearer token for that user. */
import { mintApiToken } from "../edge/auth.ts";
import { ConfigError, parseConfig } from "../shared/config/parse-config.ts";

const [userId, ttl] = process.argv.slice(2);
if (!userId || (ttl !== undefined && !/^\d+$/.test(ttl))) {
  console.error("usage: npm run token -- <user-id> [ttl-seconds]");
  process.exit(2);
}
try {
  const config = parseConfig(process.env, ["auth"]);
  console.log(await mintApiToken(userId, config.auth.jwtSecret, ttl ? Number(ttl) : undefined));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`${error.message} (npm start writes one to .env)`);
  process.exit(1);
}
