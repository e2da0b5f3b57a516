import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Prometheus metrics, one registry per app instance (tests run several in one process). */
export function createMetrics() {
  const registry = new Registry();
  const m = {
    registry,
    decisions: new Counter({
      name: "mamori_call_decisions_total",
      help: "Call authorization decisions, by decision and the first rule that denied",
      labelNames: ["decision", "rule"] as const,
      registers: [registry],
    }),
    authorizeSeconds: new Histogram({
      name: "mamori_authorize_duration_seconds",
      help: "Time to decide and store one call authorization, inside the service",
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
      registers: [registry],
    }),
    alerts: new Counter({
      name: "mamori_alerts_total",
      help: "Alerts raised, by guard, rule and severity",
      labelNames: ["guard", "rule", "severity"] as const,
      registers: [registry],
    }),
    blocks: new Counter({
      name: "mamori_blocks_total",
      help: "International-calling blocks placed, by rule",
      labelNames: ["rule"] as const,
      registers: [registry],
    }),
    bans: new Counter({
      name: "mamori_bans_total",
      help: "Addresses banned, by guard and rule",
      labelNames: ["guard", "rule"] as const,
      registers: [registry],
    }),
    sipEvents: new Counter({
      name: "mamori_sip_events_total",
      help: "SIP security events read, by source and type",
      labelNames: ["source", "type"] as const,
      registers: [registry],
    }),
    rejectedInput: new Counter({
      name: "mamori_rejected_input_total",
      help: "Log lines, packets and records that could not be used, by source",
      labelNames: ["source"] as const,
      registers: [registry],
    }),
    terminations: new Counter({
      name: "mamori_call_terminations_total",
      help: "Live calls Mamori asked to end, by rule",
      labelNames: ["rule"] as const,
      registers: [registry],
    }),
    liveCalls: new Gauge({
      name: "mamori_live_calls",
      help: "Calls allowed and not yet ended",
      registers: [registry],
    }),
    storeDegraded: new Gauge({
      name: "mamori_store_degraded",
      help: "1 while the store refuses writes; decisions continue from memory",
      registers: [registry],
    }),
    storeErrors: new Counter({
      name: "mamori_store_errors_total",
      help: "Failed store writes",
      registers: [registry],
    }),
    rejected: new Counter({
      name: "mamori_rejected_requests_total",
      help: "Requests refused at the edge, by error code",
      labelNames: ["code"] as const,
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
