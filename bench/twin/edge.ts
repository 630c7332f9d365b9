/**
 * The twin's edge process (`bun bench/twin/edge.ts <queue prefix> <queue name>`): our edge app,
 * built from the same environment as `edge/entry-bun.ts`, with the same per-request metrics, and
 * BullMQ's `queue.add` as its producer.
 */
import { createEdgeApp } from "../../edge/app.ts";
import { buildEdgeDeps } from "../../edge/build-deps.ts";
import { parseConfig } from "../../shared/config/parse-config.ts";
import { httpMetrics } from "../../worker/runtime/http-metrics.ts";
import { Metrics, processMetrics } from "../../worker/runtime/metrics.ts";
import { openQueue } from "../bullmq-side.ts";
import { bullmqProducer } from "./bullmq-producer.ts";

const [prefix = "", name = ""] = process.argv.slice(2);
const deps = buildEdgeDeps(process.env);
const { listen, redis, worker } = parseConfig(process.env, ["listen", "redis", "worker"]);
const queue = openQueue(
  { redisUrl: redis.url, prefix, name },
  { attempts: worker.maxAttempts, backoffMs: worker.retryBaseMs },
);
await queue.waitUntilReady();
const observe = httpMetrics(processMetrics(new Metrics()));
const app = createEdgeApp({ ...deps, producer: bullmqProducer(queue), observe });
const server = Bun.serve({ hostname: listen.host, port: deps.config.edge.port, fetch: app.fetch });
deps.logger.info("twin edge listening", { url: server.url.href });
// Requests in flight finish (and reach the queue) before its connection closes.
process.once(
  "SIGTERM",
  () =>
    void server
      .stop()
      .then(() => queue.close())
      .finally(() => process.exit(0)),
);
