import { Hono } from "hono";
import { NONCE, type SecureHeadersVariables, secureHeaders } from "hono/secure-headers";
import { FORMATS, STYLES } from "../../shared/job-states.ts";
import type { AbuseLimits } from "../abuse-limits.ts";
import { type AuthEnv, issueSession, readSession, type SessionCookie, sessionNeedsRenewal } from "../auth.ts";
import type { EdgeDeps } from "../edge-deps.ts";
import { STUDIO_SCRIPT } from "./studio-script.ts";

const options = (values: readonly string[]) => values.map((v) => `<option>${v}</option>`).join("");

type PageEnv = { Variables: AuthEnv["Variables"] & SecureHeadersVariables };

/**
 * The create form: submits, then follows the generation live over the WebSocket in `links.events`.
 * A visit without a valid session mints a new anonymous user, which counts against the client
 * address's SESSIONS_PER_IP_PER_HOUR; a session past half its life is renewed for the same user.
 * Its script and style run only by the per-response nonce in the CSP (no 'unsafe-inline').
 */
export function studioPage(deps: EdgeDeps, context: { limits: AbuseLimits; cookie: SessionCookie }) {
  const app = new Hono<PageEnv>();
  const { wsUrl, imageUrl } = deps.config.public;
  const secret = deps.config.auth.jwtSecret;
  const headers = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: [NONCE],
      styleSrc: [NONCE],
      connectSrc: ["'self'", new URL(wsUrl).origin],
      // data: for previews, which travel inside the live messages (a few KiB of WebP) instead of a request each.
      imgSrc: ["'self'", new URL(imageUrl).origin, "data:"],
      formAction: ["'self'"],
      baseUri: ["'none'"],
      frameAncestors: ["'none'"],
    },
  });

  app.get("/", headers, async (c) => {
    const session = await readSession(c, secret, context.cookie);
    if (!session) {
      await context.limits.newSession(c.get("clientIp"));
      await issueSession(c, secret, context.cookie);
    } else if (sessionNeedsRenewal(session)) await issueSession(c, secret, context.cookie, session.sub);
    const nonce = c.get("secureHeadersNonce") ?? "";
    c.header("Cache-Control", "no-store");
    return c.html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Pixel Studio</title>
<style nonce="${nonce}">
body{font:16px system-ui,sans-serif;max-width:860px;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
form{display:grid;grid-template-columns:repeat(4,1fr);gap:.6rem;align-items:end}
label{display:flex;flex-direction:column;font-size:.85rem;gap:.2rem}
.wide{grid-column:1/-1}textarea{min-height:4rem}button{padding:.6rem;font-size:1rem}
progress{width:100%}#items{list-style:none;padding:0;display:grid;gap:1rem}
#items li{border:1px solid #ddd;border-radius:8px;padding:.8rem}#items img{max-width:100%;border-radius:4px}
.error{color:#b00020}
</style></head>
<body>
<h1>Pixel Studio</h1>
<form id="create">
  <label class="wide">Prompt<textarea name="prompt" required maxlength="1000"></textarea></label>
  <label>Style<select name="style">${options(STYLES)}</select></label>
  <label>Format<select name="format">${options(FORMATS)}</select></label>
  <label>Width<input name="width" type="number" min="256" max="2048" step="64" value="1024"></label>
  <label>Height<input name="height" type="number" min="256" max="2048" step="64" value="1024"></label>
  <label>Seed<input name="seed" type="number" min="0" max="4294967295" placeholder="random"></label>
  <button class="wide" type="submit">Generate</button>
</form>
<p id="message" role="status"></p>
<ul id="items"></ul>
<script nonce="${nonce}">${STUDIO_SCRIPT}</script>
</body></html>`);
  });
  return app;
}
