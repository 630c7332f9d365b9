import { createMiddleware } from "hono/factory";
import { verifyInternalToken } from "../../shared/auth/internal-token.ts";

/** Service-to-service routes (edge → container tier): a minute-long token of the internal audience. */
export const internalOnly = (secret: string) =>
  createMiddleware(async (c, next) => {
    const token = /^Bearer (\S+)$/.exec(c.req.header("authorization") ?? "")?.[1];
    if (!token || !(await verifyInternalToken(token, secret)))
      return c.json({ error: { code: "unauthorized", message: "internal calls need a service token" } }, 401);
    await next();
  });
