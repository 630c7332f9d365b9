/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import type { OpsIdentity } from "../../../shared/auth/ops-token.ts";

/** Every console page: the navigation, who is signed in with which role, and the one script. */
export function Layout(props: { title: string; identity?: OpsIdentity; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <title>{`${props.title} · Pixel Studio operations`}</title>
        <link rel="stylesheet" href="/ops/assets/ops.css" />
        <script type="module" src="/ops/assets/ops-client.js" />
      </head>
      <body data-role={props.identity?.role ?? ""}>
        <header>
          <strong>Pixel Studio operations</strong>
          {props.identity && (
            <nav>
              <a href="/ops">Overview</a>
              <a href="/ops/failed">Failed</a>
              <form method="get" action="/ops/generations" class="inline">
                <input name="id" placeholder="generation id" aria-label="generation id" size={38} />
                <button type="submit">Story</button>
              </form>
              <span class="who">
                {props.identity.operator} · <span id="role">{props.identity.role}</span>
              </span>
              <form method="post" action="/ops/logout" class="inline">
                <button type="submit">Sign out</button>
              </form>
            </nav>
          )}
        </header>
        <main>{props.children}</main>
        <dialog id="confirm-dialog">
          <form method="dialog">
            <p id="confirm-text" />
            <button value="cancel" type="submit">
              Cancel
            </button>
            <button value="confirm" type="submit" id="confirm-yes">
              Confirm
            </button>
          </form>
        </dialog>
      </body>
    </html>
  );
}

export function LoginPage(props: { error?: string }) {
  return (
    <Layout title="Sign in">
      <h1>Sign in</h1>
      <p>
        Paste an operations token (<code>npm run token -- --admin ops</code>, or <code>--viewer</code> for read-only).
      </p>
      {props.error && <p class="error">{props.error}</p>}
      <form method="post" action="/ops/login">
        <input name="token" type="password" autocomplete="off" required size={60} aria-label="token" />
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}
