import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { ShieldMode } from "../../shield/types.js";

type Reading = () => { mode: ShieldMode; limit: number; knee: number; inflight: number; queued: number };

/** The gateway whose gauges a registry reports: the latest one started on it. */
const readers = new WeakMap<Registry, { read: Reading }>();

/**
 * The billing shield's Prometheus metrics, on the registry the composition root passes in. A metric
 * already on the registry (a restarted gateway, tests) is reused rather than registered twice.
 */
export function createShieldMetrics(registry: Registry, read: Reading) {
  const holder = readers.get(registry) ?? { read };
  holder.read = read;
  readers.set(registry, holder);
  const reuse = <T>(name: string, make: () => T): T =>
    (registry.getSingleMetric(name) as T | undefined) ?? make();
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    reuse(name, () => new Counter<L>({ name, help, labelNames, registers: [registry] }));
  const gauge = (name: string, help: string, value: (r: ReturnType<Reading>) => number) =>
    reuse(
      name,
      () =>
        new Gauge({
          name,
          help,
          registers: [registry],
          collect() {
            this.set(value(holder.read()));
          },
        }),
    );
  return {
    admitted: counter("mamori_shield_admitted_total", "Requests forwarded to the upstream, by class", [
      "class",
    ]),
    queued: counter("mamori_shield_queued_total", "Requests that waited in their class's queue", ["class"]),
    shed: counter(
      "mamori_shield_shed_total",
      "Requests refused (429, 503, 403 banned), by class and reason",
      ["class", "reason"],
    ),
    challenged: counter("mamori_shield_challenged_total", "Challenges sent to unknown clients", ["class"]),
    bans: counter("mamori_shield_bans_total", "Source addresses banned, by rule", ["rule"]),
    refused: counter("mamori_shield_connections_refused_total", "Connections closed at accept, by reason", [
      "reason",
    ]),
    rejected: counter("mamori_shield_rejected_total", "Malformed or oversized requests", ["reason"]),
    upstreamErrors: counter("mamori_shield_upstream_errors_total", "Upstream failures, by kind", ["kind"]),
    upstreamSeconds: reuse(
      "mamori_shield_upstream_duration_seconds",
      () =>
        new Histogram({
          name: "mamori_shield_upstream_duration_seconds",
          help: "Time from forwarding a request to the upstream's response headers, by class",
          labelNames: ["class"] as const,
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers: [registry],
        }),
    ),
    mode: gauge("mamori_shield_mode", "1 in attack mode, 0 in normal mode", (r) =>
      r.mode === "attack" ? 1 : 0,
    ),
    limit: gauge(
      "mamori_shield_concurrency_limit",
      "The adaptive concurrency limit on the upstream",
      (r) => r.limit,
    ),
    knee: gauge(
      "mamori_shield_concurrency_knee",
      "In flight the upstream carries without a queue: unknown clients start only below it",
      (r) => r.knee,
    ),
    inflight: gauge("mamori_shield_inflight", "Requests in flight to the upstream", (r) => r.inflight),
    waiting: gauge("mamori_shield_queue_length", "Requests waiting in the class queues", (r) => r.queued),
  };
}

export type ShieldMetrics = ReturnType<typeof createShieldMetrics>;
