/** @jsxImportSource hono/jsx */
/**
 * The operations console at /ops: server-rendered pages (hono/jsx), live fragments the one
 * bundled script swaps in, and replay for admins. A strict CSP allows only our own script and
 * stylesheet; POSTs must come from our own origin (CSRF), and replay needs the admin role.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import type { JSX } from "hono/jsx/jsx-runtime";
import { observeRequests, type RequestObserver } from "../../edge/request-metrics.ts";
import { type OpsIdentity, verifyOpsToken } from "../../shared/auth/ops-token.ts";
import type { Logger } from "../../shared/logger.ts";
import type { TopicKey } from "../../shared/topics.ts";
import { UUID_V7 } from "../../shared/uuid7.ts";
import { FAILED_LIKE_TOPICS } from "./failed-topics.ts";
import type { OpsConsole } from "./ops-console.ts";
import { filterFailed } from "./ops-records.ts";
import { ConfirmReplayPage, FailedPage, InspectPage, ReplayResultPage } from "./views/failed.tsx";
import { Layout, LoginPage } from "./views/layout.tsx";
import { ChartsSection, KafkaSection, WorkersSection } from "./views/overview.tsx";
import { StoryPage } from "./views/story.tsx";

const COOKIE = "ps_ops";
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

type Env = { Variables: { identity: OpsIdentity } };

/** The browser module, bundled once from TypeScript when the console starts. */
export async function bundleClient(): Promise<string> {
  const result = await Bun.build({
    entrypoints: [join(import.meta.dir, "client/ops-client.ts")],
    target: "browser",
    minify: true,
  });
  const output = result.outputs[0];
  if (!result.success || !output) throw new Error(`the console script did not build: ${result.logs.join("; ")}`);
  return output.text();
}

export async function createOpsApp(deps: {
  console: OpsConsole;
  secret: string;
  /**
   * OPS_PUBLIC_ORIGIN, where operators open the console. Behind a TLS proxy the request reaching
   * us is plain http, so its URL cannot say whether the cookie must be Secure: this does. Empty:
   * the console is used directly, and the request's own URL is its origin.
   */
  publicOrigin?: string;
  logger: Logger;
  observe?: RequestObserver;
}) {
  const ops = deps.console;
  const publicOrigin = deps.publicOrigin ? new URL(deps.publicOrigin).origin : null;
  const originOf = (c: Context) => publicOrigin ?? new URL(c.req.url).origin;
  const script = await bundleClient();
  const css = readFileSync(join(import.meta.dir, "ops.css"), "utf8");
  const app = new Hono<Env>();
  if (deps.observe) app.use(observeRequests(deps.observe));
  app.use(async (c, next) => {
    await next();
    c.header("Content-Security-Policy", CSP);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
  });
  app.use("/ops/*", csrf(publicOrigin ? { origin: publicOrigin } : {}));

  const page = async (c: Context, title: string, body: JSX.Element, status: 200 | 400 | 401 | 403 | 404 = 200) =>
    c.html(
      `<!doctype html>${await (
        <Layout title={title} identity={c.get("identity")}>
          {body}
        </Layout>
      ).toString()}`,
      status,
    );

  app.get("/ops/assets/ops-client.js", (c) =>
    c.body(script, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "max-age=300" }),
  );
  app.get("/ops/assets/ops.css", (c) =>
    c.body(css, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "max-age=300" }),
  );

  app.get("/ops/login", async (c) => c.html(`<!doctype html>${await (<LoginPage />).toString()}`));
  app.post("/ops/login", async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === "string" ? form.token.trim() : "";
    const result = await verifyOpsToken(token, deps.secret);
    if (!result.ok)
      return c.html(
        `<!doctype html>${await (<LoginPage error={`That token does not open the console: ${result.reason}.`} />).toString()}`,
        401,
      );
    setCookie(c, COOKIE, token, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/ops",
      secure: originOf(c).startsWith("https:"),
      maxAge: Math.max(1, result.identity.exp - Math.floor(Date.now() / 1000)),
    });
    deps.logger.info("operator signed in", { operator: result.identity.operator, role: result.identity.role });
    return c.redirect("/ops", 303);
  });
  app.post("/ops/logout", (c) => {
    deleteCookie(c, COOKIE, { path: "/ops" });
    return c.redirect("/ops/login", 303);
  });

  // Everything below needs a valid operations token: the cookie from sign-in, or a bearer header.
  const guarded = new Hono<Env>();
  guarded.use(async (c, next) => {
    const bearer = /^Bearer (\S+)$/.exec(c.req.header("authorization") ?? "")?.[1];
    const token = bearer ?? getCookie(c, COOKIE);
    const result = token ? await verifyOpsToken(token, deps.secret) : null;
    if (!result?.ok) {
      const wantsPage =
        c.req.method === "GET" && !c.req.path.startsWith("/ops/api/") && !c.req.path.startsWith("/ops/fragments/");
      return wantsPage
        ? c.redirect("/ops/login", 303)
        : c.json({ error: { code: "unauthorized", message: "an operations token is required" } }, 401);
    }
    c.set("identity", result.identity);
    await next();
  });
  const admin = async (c: Context<Env>, next: () => Promise<void>) => {
    if (c.get("identity").role !== "admin")
      return c.json({ error: { code: "forbidden", message: "replay needs the admin role" } }, 403);
    await next();
  };

  guarded.get("/ops", async (c) => {
    const [workers, minutes, { overview, error }] = await Promise.all([ops.workers(), ops.minutes(), ops.overview()]);
    return page(
      c,
      "Overview",
      <div>
        <h1>Pipeline</h1>
        <h2>Last hour</h2>
        <section id="charts" data-live="/ops/fragments/charts">
          <ChartsSection minutes={minutes} />
        </section>
        <h2>Workers</h2>
        <section id="workers-live" data-live="/ops/fragments/workers">
          <WorkersSection workers={workers} />
        </section>
        <section id="kafka" data-live="/ops/fragments/kafka">
          <KafkaSection overview={overview} error={error} />
        </section>
      </div>,
    );
  });
  guarded.get("/ops/fragments/kafka", async (c) => c.html(<KafkaSection {...(await ops.overview())} />));
  guarded.get("/ops/fragments/workers", async (c) => c.html(<WorkersSection workers={await ops.workers()} />));
  guarded.get("/ops/fragments/charts", async (c) => c.html(<ChartsSection minutes={await ops.minutes()} />));
  guarded.get("/ops/api/overview", async (c) => {
    const [workers, minutes, kafka] = await Promise.all([ops.workers(), ops.minutes(), ops.overview()]);
    return c.json({ kafka: kafka.overview, workers, minutes });
  });

  guarded.get("/ops/failed", async (c) => {
    const filter = {
      code: c.req.query("code") || undefined,
      q: c.req.query("q") || undefined,
      replayable: c.req.query("replayable") === "1",
    };
    const all = await ops.failed();
    const entries = filterFailed(all, filter);
    const codes = [...new Set(all.map((e) => e.code))].sort();
    return page(
      c,
      "Failed",
      <FailedPage entries={entries} filter={filter} codes={codes} canReplay={c.get("identity").role === "admin"} />,
    );
  });
  guarded.get("/ops/failed/:topic/:partition/:offset", async (c) => {
    const { topic, partition, offset } = c.req.param();
    const known =
      FAILED_LIKE_TOPICS.includes(topic as TopicKey) && /^\d{1,6}$/.test(partition) && /^\d{1,18}$/.test(offset);
    const entry = known
      ? (await ops.failed()).find(
          (e) => e.topicKey === topic && e.record.partition === Number(partition) && e.record.offset === Number(offset),
        )
      : undefined;
    if (!entry) return page(c, "Not found", <p class="error">No such failed record.</p>, 404);
    return page(c, "Inspect", <InspectPage entry={entry} canReplay={c.get("identity").role === "admin"} />);
  });

  guarded.post("/ops/replay", admin, async (c) => {
    const form = await c.req.parseBody();
    const id = typeof form.id === "string" && form.id !== "" ? form.id : undefined;
    if (id !== undefined && !UUID_V7.test(id)) return page(c, "Replay", <p class="error">Not a generation id.</p>, 400);
    if (form.confirm !== "yes") return page(c, "Confirm replay", <ConfirmReplayPage id={id} />);
    const result = await ops.replay(id ? [id] : undefined);
    deps.logger.info("replay from the console", {
      operator: c.get("identity").operator,
      ids: id ?? "all",
      replayed: result.replayed.length,
    });
    return page(c, "Replay", <ReplayResultPage result={result} />);
  });

  guarded.get("/ops/generations", (c) => {
    const id = (c.req.query("id") ?? "").trim();
    return c.redirect(`/ops/generations/${encodeURIComponent(id)}`, 303);
  });
  guarded.get("/ops/generations/:id", async (c) => {
    const id = c.req.param("id");
    if (!UUID_V7.test(id)) return page(c, "Not found", <p class="error">{`${id} is not a generation id.`}</p>, 404);
    return page(c, `Generation ${id}`, <StoryPage story={await ops.story(id)} />);
  });

  app.route("/", guarded);
  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `No route for ${c.req.method} ${c.req.path}` } }, 404),
  );
  app.onError((error, c) => {
    // csrf() refuses a foreign origin by throwing a 403 that carries its response.
    if (error instanceof HTTPException) return error.getResponse();
    deps.logger.error("console error", { error, path: c.req.path });
    return c.json({ error: { code: "internal", message: "Internal error" } }, 500);
  });
  return app;
}
