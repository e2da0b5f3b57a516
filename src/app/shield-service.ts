import type { Logger } from "pino";
import type { WebhookDispatcher } from "../adapters/actions/webhook/webhook.js";
import { type ShieldHandle, startShield } from "../adapters/http/shield-gateway.js";
import type { Store } from "../adapters/store/store.js";
import type { Alert } from "../calls/verdict.js";
import type { Config } from "../config/schema.js";
import type { Metrics } from "./metrics.js";
import type { PbxService } from "./pbx-service.js";
import type { StoreHealth } from "./store-health.js";

/**
 * The billing shield in the service: its bans go through the same path as the PBX guard's (stored,
 * then nftables and Kamailio), its mode changes go to the audit log, and its alerts to the alert list
 * and the webhooks. Lifting a shield ban through the API also lifts it in the gateway.
 */
export async function startShieldGateway(
  config: Config,
  bans: PbxService,
  store: Store,
  health: StoreHealth,
  webhooks: WebhookDispatcher,
  metrics: Metrics,
  log: Logger,
): Promise<ShieldHandle> {
  const c = config.shield;
  const alert = (a: Omit<Alert, "callId" | "decision"> & { decision?: Alert["decision"] }) => {
    const full: Alert = { callId: undefined, decision: "allow", ...a };
    void health.try("shield alert", () => store.insertAlerts([full], "shield"));
    metrics.alerts.inc({ guard: "shield", rule: a.rule, severity: a.severity });
    void webhooks.enqueue(
      [{ ...full, event: "alert", guard: "shield", at: new Date(a.at).toISOString() }],
      a.at,
    );
  };
  const handle = await startShield({
    upstream: c.upstream as string,
    host: c.host,
    port: c.port,
    settings: c.settings,
    registry: metrics.registry,
    onBan: (b) => {
      void bans
        .ban({
          address: b.address,
          reason: b.reason,
          durationMs: b.durationMs,
          actor: "engine",
          guard: "shield",
          rule: b.rule,
          at: Math.round(b.at),
        })
        .catch((err) => log.warn({ err, address: b.address }, "shield ban not stored"));
    },
    onModeChange: (m) => {
      void health.try("audit", () =>
        store.appendAudit({
          at: Math.round(m.at),
          actor: "engine",
          action: "shield.mode",
          subject: "shield",
          detail: { from: m.from, to: m.to, reason: m.reason, evidence: m.evidence },
        }),
      );
      alert({
        at: Math.round(m.at),
        rule: `shield-${m.to}`,
        severity: m.to === "normal" ? "warning" : "critical",
        account: "shield",
        message: `billing shield: ${m.from} → ${m.to}: ${m.reason}`,
        evidence: m.evidence,
      });
    },
    onAlert: (a) =>
      alert({
        at: Math.round(a.at),
        rule: a.rule,
        severity: a.severity,
        account: a.subject,
        message: a.message,
        evidence: a.evidence,
      }),
  });
  bans.onLift((ban) => {
    if (ban.guard === "shield") handle.engine.liftBan(ban.address);
  });
  log.info({ address: handle.address, upstream: c.upstream }, "billing shield listening");
  return handle;
}
