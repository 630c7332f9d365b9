/**
 * How long one dependency probe answers `GET /healthz`. The endpoint needs no credentials, so
 * without this every request would cost a Kafka REST call and a Redis PING: a cheap way to load
 * both. Load balancers probe every few seconds; a state this old is fresh enough for them.
 */
export const HEALTH_PROBE_TTL_MS = 2_000;

/**
 * `probe`, run at most once per `ttlMs`: requests meanwhile (concurrent ones included) share the
 * answer of the one in flight or last made. `now` is the clock (Date.now; tests may pass theirs).
 */
export function cachedProbe<T>(probe: () => Promise<T>, ttlMs: number, now: () => number = Date.now) {
  let last: { at: number; answer: Promise<T> } | null = null;
  return (): Promise<T> => {
    if (!last || now() - last.at >= ttlMs) last = { at: now(), answer: probe() };
    return last.answer;
  };
}
