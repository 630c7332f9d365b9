/**
 * `npm run token -- <user-id> [ttl-seconds]`: prints an API bearer token for that user.
 * `npm run token -- --admin|--viewer <operator> [ttl-seconds]`: a token for the operations console.
 */
import { mintApiToken } from "../edge/auth.ts";
import { mintOpsToken, type OpsRole } from "../shared/auth/ops-token.ts";
import { ConfigError, parseConfig } from "../shared/config/parse-config.ts";

const args = process.argv.slice(2);
const role: OpsRole | null = args[0] === "--admin" ? "admin" : args[0] === "--viewer" ? "viewer" : null;
const [userId, ttl] = role ? args.slice(1) : args;
if (!userId || userId.startsWith("--") || (ttl !== undefined && !/^\d+$/.test(ttl))) {
  console.error("usage: npm run token -- [--admin|--viewer] <user-id> [ttl-seconds]");
  process.exit(2);
}
try {
  const config = parseConfig(process.env, ["auth"]);
  const seconds = ttl ? Number(ttl) : undefined;
  console.log(
    role
      ? await mintOpsToken(userId, role, config.auth.jwtSecret, seconds)
      : await mintApiToken(userId, config.auth.jwtSecret, seconds),
  );
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`${error.message} (npm start writes one to .env)`);
  process.exit(1);
}
