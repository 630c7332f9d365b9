/** @jsxImportSource hono/jsx */
import { Hono } from "hono";
import { NONCE, type SecureHeadersVariables, secureHeaders } from "hono/secure-headers";
import { FORMATS, STYLES } from "../../shared/job-states.ts";
import type { AbuseLimits } from "../abuse-limits.ts";
import { type AuthEnv, issueSession, readSession, type SessionCookie, sessionNeedsRenewal } from "../auth.ts";
import type { EdgeDeps } from "../edge-deps.ts";
import { STUDIO_SCRIPT, STUDIO_STYLE } from "./studio-bundle.ts";

type PageEnv = { Variables: AuthEnv["Variables"] & SecureHeadersVariables };

const Choice = (props: { name: string; label: string; values: readonly string[] }) => (
  <label>
    {props.label}
    <select name={props.name}>
      {props.values.map((value) => (
        <option>{value}</option>
      ))}
    </select>
  </label>
);

/**
 * The form, the gallery the client module fills (generations newest first, more on scrolling),
 * a live region it announces changes in, and the two dialogs (a larger view, the delete
 * confirmation). The script and style are the prebuilt bundle (studio-bundle.ts), run only by the
 * response's nonce.
 */
function StudioPage(props: { nonce: string }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <title>Pixel Studio</title>
        <style nonce={props.nonce} dangerouslySetInnerHTML={{ __html: STUDIO_STYLE }} />
      </head>
      <body>
        <header>
          <h1>Pixel Studio</h1>
        </header>
        <main>
          <section aria-labelledby="create-heading">
            <h2 id="create-heading">Create</h2>
            <form id="create">
              <label class="wide">
                Prompt
                <textarea name="prompt" required maxlength={1000} />
              </label>
              <Choice name="style" label="Style" values={STYLES} />
              <Choice name="format" label="Format" values={FORMATS} />
              <label>
                Width
                <input name="width" type="number" min="256" max="2048" step="64" value="1024" />
              </label>
              <label>
                Height
                <input name="height" type="number" min="256" max="2048" step="64" value="1024" />
              </label>
              <label>
                Seed
                <input name="seed" type="number" min="0" max="4294967295" placeholder="random" />
              </label>
              <button class="wide primary" type="submit">
                Generate
              </button>
            </form>
            <p id="message" class="error" role="alert" />
          </section>
          <section aria-labelledby="gallery-heading">
            <h2 id="gallery-heading">Your gallery</h2>
            <p id="gallery-help" class="hint">
              Tab to a picture; Enter or Space opens it, Delete deletes it, arrow keys move between pictures.
            </p>
            <ul
              id="gallery"
              class="gallery"
              aria-labelledby="gallery-heading"
              aria-describedby="gallery-help"
              tabindex={-1}
            />
            <p id="gallery-end" class="hint" hidden>
              That is every generation you made.
            </p>
            <button id="more" type="button" class="more">
              Load older generations
            </button>
          </section>
        </main>
        <p id="announcer" class="visually-hidden" role="status" aria-live="polite" />
        <dialog id="viewer" aria-labelledby="viewer-title">
          <h2 id="viewer-title">Generation</h2>
          <img id="viewer-image" alt="" />
          <p class="actions">
            <a id="viewer-download" href="/" download>
              Download
            </a>
            <button id="viewer-close" type="button">
              Close
            </button>
          </p>
        </dialog>
        <dialog id="confirm-delete" aria-labelledby="confirm-title">
          <form method="dialog">
            <p id="confirm-title">Delete this generation?</p>
            <p>Its image and every trace of it are removed; this cannot be undone.</p>
            <p class="actions">
              <button value="keep" type="submit" autofocus>
                Keep it
              </button>
              <button value="delete" type="submit" class="danger">
                Delete
              </button>
            </p>
          </form>
        </dialog>
        <script nonce={props.nonce} dangerouslySetInnerHTML={{ __html: STUDIO_SCRIPT }} />
      </body>
    </html>
  );
}

/**
 * The create page and gallery, following generations live over the WebSocket in `links.events`.
 * A visit without a valid session mints a new anonymous user, which counts against the client
 * address's SESSIONS_PER_IP_PER_HOUR; a session past half its life is renewed for the same user.
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
    c.header("Cache-Control", "no-store");
    return c.html(`<!doctype html>${await (<StudioPage nonce={c.get("secureHeadersNonce") ?? ""} />).toString()}`);
  });
  return app;
}
