import type { RequestObserver } from "../../edge/request-metrics.ts";
import { METRICS } from "./metric-catalogue.ts";
import type { Metrics } from "./metrics.ts";

/** The HTTP series (requests by route, method and code; time by route) fed by `observeRequests`. */
export function httpMetrics(metrics: Metrics): RequestObserver {
  const requests = metrics.counter(METRICS.httpRequests);
  const seconds = metrics.histogram(METRICS.httpSeconds);
  return (route, method, status, elapsed) => {
    requests.inc({ route, method, code: String(status) });
    seconds.observe(elapsed, { route });
  };
}
