import type { Logger } from "pino";
import type { ExabgpSpeaker } from "../adapters/actions/exabgp/exabgp.js";
import type { WebhookDispatcher, WebhookEvent } from "../adapters/actions/webhook/webhook.js";
import type { Store } from "../adapters/store/store.js";
import type { Alert } from "../calls/verdict.js";
import { MamoriError } from "../core/errors.js";
import type { Attack } from "../flows/attack.js";
import type { FlowGuard } from "../flows/engine.js";
import { type Mitigation, mitigationSchema } from "../flows/mitigation.js";
import type { Metrics } from "./metrics.js";
import type { PbxService } from "./pbx-service.js";
import type { StoreHealth } from "./store-health.js";

/**
 * The flow guard as a service. Each tick: attacks are recorded, mitigations are stored before they
 * are announced (ExaBGP: RTBH and Flowspec; nftables: the attack's top sources through the ban path),
 * and withdrawn when the engine says so. At start the mitigations in force are read back and BGP is
 * made to match them, so nothing is lost and nothing sticks after a restart or a crash.
 */
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export class FlowService {
  private announced = 0;
  private withdrawn = 0;

  constructor(
    readonly guard: FlowGuard,
    private readonly store: Store,
    private readonly health: StoreHealth,
    private readonly speaker: ExabgpSpeaker | undefined,
    private readonly bans: PbxService,
    private readonly webhooks: WebhookDispatcher,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  get stats() {
    return {
      ...this.guard.stats,
      announced: this.announced,
      withdrawn: this.withdrawn,
      bgp: this.speaker?.stats,
    };
  }

  async restore(now: number): Promise<void> {
    const rows = await this.store.listMitigations({ activeAt: now, limit: 1000 });
    let restored = 0;
    for (const r of rows) {
      const m = mitigationSchema.safeParse(r.doc);
      if (!m.success) {
        this.log.error(
          { id: r.id, issues: m.error.issues.length },
          "stored mitigation unreadable; withdrawn",
        );
        await this.store.withdrawMitigation(r.id, "mamori", "unreadable after restart", now);
        continue;
      }
      this.guard.restoreMitigation(m.data);
      restored++;
    }
    this.speaker?.reconcile(this.guard.mitigations().filter((m) => !m.dryRun && m.type !== "nftables"));
    // The engine starts without the attacks that were open at the stop, so nothing would ever end
    // them: they end now. One that goes on is detected again as a new attack, which adopts the
    // mitigation restored above (same id) and ends, and withdraws it, after the hold-down.
    const open = await this.store.listAttacks({ active: true, limit: 1000 });
    for (const a of open)
      await this.health.try("attack", () =>
        this.store.upsertAttack({ ...a, endedAt: now, doc: { ...(a.doc as object), endedAt: now } }),
      );
    this.log.info({ mitigations: restored, attacksEnded: open.length }, "flow guard state restored");
  }

  async tick(now: number): Promise<void> {
    const r = this.guard.tick(now);
    for (const a of [...r.attacksStarted, ...r.attacksUpdated, ...r.attacksEnded])
      await this.health.try("attack", () =>
        this.store.upsertAttack({
          id: a.id,
          victim: victimText(a),
          kind: a.kind,
          startedAt: a.startedAt,
          updatedAt: a.updatedAt,
          endedAt: a.endedAt,
          doc: a,
        }),
      );
    const events: WebhookEvent[] = [];
    for (const a of r.attacksStarted) events.push(attackEvent(a, "started"));
    for (const a of r.attacksEnded) events.push(attackEvent(a, "ended"));
    if (r.alerts.length) {
      const alerts: Alert[] = r.alerts.map((f) => ({
        at: f.at,
        rule: f.rule,
        severity: f.severity,
        account: f.subject,
        callId: undefined,
        decision: "allow",
        message: f.message,
        evidence: f.evidence,
      }));
      await this.health.try("flow alerts", () => this.store.insertAlerts(alerts, "flows"));
      for (const a of alerts) this.metrics.alerts.inc({ guard: "flows", rule: a.rule, severity: a.severity });
      for (const a of alerts)
        events.push({ ...a, event: "alert", guard: "flows", at: new Date(a.at).toISOString() });
    }
    for (const m of r.announce) {
      // Stored first: a crash between the two leaves a mitigation that reconcile announces at start.
      await this.health.try("mitigation", () => this.store.upsertMitigation(mitigationRow(m), "engine"));
      await this.act(m, now);
      events.push(mitigationEvent(m, "announce"));
    }
    for (const m of r.withdraw) {
      await this.health.try("mitigation", () =>
        this.store.withdrawMitigation(m.id, "engine", "attack over", now),
      );
      this.retract(m);
      events.push(mitigationEvent(m, "withdraw"));
    }
    if (events.length) void this.webhooks.enqueue(events, now);
  }

  /** An operator withdraws a mitigation by hand; the engine will not place it again for that attack. */
  async withdraw(id: string, reason: string, actor: string, now: number): Promise<void> {
    const row = await this.store.getMitigation(id);
    if (!row) throw new MamoriError("MAMORI_NOT_FOUND", `no mitigation ${id}`);
    if (row.withdrawnAt !== null)
      throw new MamoriError("MAMORI_CONFLICT", `mitigation ${id} was already withdrawn`);
    await this.health.must("withdraw mitigation", () =>
      this.store.withdrawMitigation(id, actor, reason, now),
    );
    const m = this.guard.removeMitigation(id) ?? mitigationSchema.safeParse(row.doc).data;
    if (m) this.retract(m);
  }

  private async act(m: Mitigation, now: number): Promise<void> {
    if (m.dryRun) {
      this.log.warn({ id: m.id, type: m.type, reason: m.reason }, "dry run: would announce mitigation");
      return;
    }
    this.announced++;
    if (m.type === "nftables") {
      for (const src of m.sources)
        await this.bans
          .ban({
            address: src,
            reason: `flood source: ${m.reason}`,
            durationMs: Math.max(60_000, m.expiresAt - now),
            actor: "engine",
            guard: "flows",
            rule: "flow-attack-source",
            at: now,
            evidence: { mitigation: m.id, attack: m.attackId },
          })
          .catch((err) => this.log.warn({ err, src }, "could not ban a flood source"));
      return;
    }
    if (!this.speaker) {
      this.log.error(
        { id: m.id },
        "a BGP mitigation was decided but no ExaBGP is configured (flowGuard.exabgp)",
      );
      return;
    }
    this.speaker.announce(m);
  }

  private retract(m: Mitigation): void {
    this.withdrawn++;
    if (m.dryRun || m.type === "nftables") return; // bans expire by themselves
    this.speaker?.withdraw(m);
  }
}

function victimText(a: Attack): string {
  return a.victim.type === "host" ? a.victim.address : a.victim.prefix;
}

function mitigationRow(m: Mitigation) {
  return {
    id: m.id,
    attackId: m.attackId,
    type: m.type,
    createdAt: m.createdAt,
    expiresAt: m.expiresAt,
    doc: m,
  };
}

function attackEvent(a: Attack, phase: "started" | "ended"): WebhookEvent {
  return {
    event: "attack",
    phase,
    at: new Date(phase === "started" ? a.startedAt : (a.endedAt ?? a.updatedAt)).toISOString(),
    id: a.id,
    victim: victimText(a),
    kind: a.kind,
    services: a.services,
    signature: a.signature,
    peak: a.peak,
    endedAt: iso(a.endedAt),
  };
}

function mitigationEvent(m: Mitigation, action: "announce" | "withdraw"): WebhookEvent {
  return { event: "mitigation", action, at: new Date(m.createdAt).toISOString(), ...m };
}
