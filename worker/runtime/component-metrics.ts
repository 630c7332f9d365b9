/**
 * The observers each component accepts, bound to a process's registry: components report plain
 * facts through small interfaces, and only this file knows the series they become.
 */
import type { ParkedLabels } from "../kafka/dead-letters.ts";
import type { RelayObserver } from "../relay/status-relay.ts";
import type { WebhookObserver } from "../webhooks/webhook-dispatcher.ts";
import type { LiveObserver, Transport } from "../ws/ws-routes.ts";
import { METRICS } from "./metric-catalogue.ts";
import type { Metrics } from "./metrics.ts";

/** Lag per topic-partition as of each consumer's last fetch. */
export function consumerLagMetrics(metrics: Metrics) {
  const lag = new Map<string, { topic: string; partition: number; value: number }>();
  metrics.gauge(METRICS.consumerLag, () =>
    [...lag.values()].map(({ topic, partition, value }) => ({
      labels: { topic, partition: String(partition) },
      value,
    })),
  );
  return (topic: string, partition: number, value: number) => {
    lag.set(`${topic}\u0000${partition}`, { topic, partition, value });
  };
}

/** Dead letters parked by this process (every consumer in it shares the series). */
export function deadLetterMetrics(metrics: Metrics) {
  const parked = metrics.counter(METRICS.deadLetters);
  return (labels: ParkedLabels) => parked.inc({ ...labels });
}

export function relayMetrics(metrics: Metrics): RelayObserver {
  const events = metrics.counter(METRICS.relayEvents);
  const lua = metrics.histogram(METRICS.relayLuaSeconds);
  return {
    event: (topic, result) => events.inc({ topic, result }),
    lua: (script, seconds) => lua.observe(seconds, { script }),
  };
}

export function historyMetrics(metrics: Metrics) {
  const events = metrics.counter(METRICS.historyEvents);
  const seconds = metrics.histogram(METRICS.historySeconds);
  return (result: "inserted" | "duplicate" | "invalid", elapsed: number) => {
    events.inc({ result });
    if (result !== "invalid") seconds.observe(elapsed);
  };
}

export function webhookMetrics(metrics: Metrics): WebhookObserver {
  const attempts = metrics.counter(METRICS.webhookAttempts);
  const seconds = metrics.histogram(METRICS.webhookSeconds);
  let backlog = 0;
  metrics.gauge(METRICS.webhookBacklog, () => [{ value: backlog }]);
  return {
    attempt(outcome, elapsed) {
      attempts.inc({ outcome });
      seconds.observe(elapsed);
    },
    backlog(count) {
      backlog = count;
    },
  };
}

export function liveMetrics(metrics: Metrics): LiveObserver {
  const open: Record<Transport, number> = { ws: 0, sse: 0 };
  metrics.gauge(METRICS.wsSockets, () =>
    (Object.keys(open) as Transport[]).map((transport) => ({ labels: { transport }, value: open[transport] })),
  );
  const messages = metrics.counter(METRICS.wsMessages);
  const drops = metrics.counter(METRICS.wsDrops);
  const refused = metrics.counter(METRICS.wsRefused);
  return {
    opened: (transport) => {
      open[transport]++;
    },
    closed: (transport) => {
      open[transport]--;
    },
    sent: (transport) => messages.inc({ transport }),
    dropped: (reason) => drops.inc({ reason }),
    refused: (status) => refused.inc({ code: String(status) }),
  };
}
