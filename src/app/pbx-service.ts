import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { WebhookDispatcher, WebhookEvent } from "../adapters/actions/webhook/webhook.js";
import type { Ban, BanRecord, Guard, Store } from "../adapters/store/store.js";
import type { Alert } from "../calls/verdict.js";
import { MamoriError } from "../core/errors.js";
import { canonicalIp } from "../core/sip-address.js";
import type { SipEvent } from "../core/sip-events.js";
import type { PbxGuard } from "../sip/guard.js";
import type { BanRequest, PbxOutcome } from "../sip/types.js";
import type { CallService } from "./call-service.js";
import type { Metrics } from "./metrics.js";
import type { StoreHealth } from "./store-health.js";

/**
 * The PBX guard as a service: SIP security events in (logs, HEP), bans out. A ban is stored before it
 * is enforced; enforcement goes to every configured enforcer (nftables set, Kamailio htable) and to
 * the webhooks. A compromised account is handed to the call guard, which blocks its international calls.
 * The billing shield bans through the same path.
 */
export type BanEnforcer = {
  readonly name: string;
  ban(address: string, durationMs: number): Promise<unknown>;
  unban(address: string): Promise<unknown>;
  /** Makes the enforcer hold exactly these bans (after a restart). */
  reconcile?(desired: readonly { address: string; until: number }[], now: number): Promise<unknown>;
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const DAY = 86_400_000;

export class PbxService {
  private readonly enforcers: BanEnforcer[] = [];
  private readonly liftListeners: ((ban: BanRecord) => void)[] = [];
  /** Enforcement failures, by enforcer, for /health. */
  readonly enforcementErrors = new Map<string, string>();

  constructor(
    readonly guard: PbxGuard,
    private readonly store: Store,
    private readonly health: StoreHealth,
    private readonly calls: CallService,
    private readonly webhooks: WebhookDispatcher,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** Called when a ban is lifted by hand (the billing shield forgets it too). */
  onLift(fn: (ban: BanRecord) => void): void {
    this.liftListeners.push(fn);
  }

  addEnforcer(e: BanEnforcer): void {
    this.enforcers.push(e);
  }

  /** Loads bans in force, offences and learned places, and makes the enforcers match the store. */
  async restore(now: number, offenceMemoryDays: number): Promise<void> {
    for (const o of await this.store.banOffences(now - offenceMemoryDays * DAY))
      this.guard.seedOffences(o.address, o.count, o.lastAt);
    const places = new Map<string, { networks: string[]; countries: string[]; first: number }>();
    for (const p of await this.store.learnedPlaces()) {
      const x = places.get(p.account) ?? { networks: [], countries: [], first: p.firstAt };
      (p.kind === "network" ? x.networks : x.countries).push(p.value);
      x.first = Math.min(x.first, p.firstAt);
      places.set(p.account, x);
    }
    for (const [account, x] of places) this.guard.seedPlaces(account, x.networks, x.countries, x.first);
    const active = await this.store.listBans({ activeAt: now, limit: 1000 });
    for (const b of active)
      this.guard.applyBan({ address: b.address, until: b.until ?? Number.MAX_SAFE_INTEGER, rule: b.rule });
    await this.reconcile(now);
    this.log.info({ bans: active.length, accounts: places.size }, "PBX guard state restored");
  }

  /** Makes every enforcer hold exactly the bans in force (a restarted Kamailio or a flushed ruleset forgets them). */
  async reconcile(now: number): Promise<void> {
    if (!this.enforcers.some((e) => e.reconcile)) return;
    let active: BanRecord[];
    try {
      active = await this.store.listBans({ activeAt: now, limit: 1000 });
    } catch {
      return; // the store is down: keep what the enforcers hold
    }
    const desired = active.map((b) => ({ address: b.address, until: b.until ?? now + 365 * DAY }));
    for (const e of this.enforcers) {
      try {
        await e.reconcile?.(desired, now);
        this.enforcementErrors.delete(e.name);
      } catch (err) {
        this.enforcementFailed(e, err);
      }
    }
  }

  async ingest(event: SipEvent): Promise<PbxOutcome> {
    const out = this.guard.ingest(event);
    if (
      out !== undefined &&
      (out.findings.length || out.bans.length || out.accountFlags.length || out.learned.length)
    )
      await this.handle(out);
    return out;
  }

  /** The call guard allowed an international call: the last link of the compromise chain. */
  async noteCall(account: string, at: number, international: boolean): Promise<void> {
    const out = this.guard.noteCall(account, at, international);
    if (out.findings.length || out.bans.length || out.accountFlags.length) await this.handle(out);
  }

  async tick(now: number): Promise<void> {
    const out = this.guard.tick(now);
    if (out.findings.length || out.bans.length || out.accountFlags.length || out.learned.length)
      await this.handle(out);
  }

  /** An operator's ban (or the billing shield's): stored, enforced, audited like the guard's own. */
  async ban(req: {
    address: string;
    reason: string;
    durationMs: number | null;
    actor: string;
    guard: Guard;
    rule: string;
    at: number;
    evidence?: Record<string, unknown>;
  }): Promise<BanRecord> {
    const ip = canonicalIp(req.address)?.ip;
    if (!ip)
      throw new MamoriError("MAMORI_BAD_REQUEST", `"${req.address}" is not an IP address`, [
        { path: "body.address", message: "an IPv4 or IPv6 address" },
      ]);
    if (this.guard.isTrusted(ip))
      throw new MamoriError(
        "MAMORI_CONFLICT",
        `${ip} is on the trusted list (pbxGuard.trusted) and is never banned`,
      );
    const ban: Ban = {
      id: newBanId(req.at),
      guard: req.guard,
      address: ip,
      createdAt: req.at,
      until: req.durationMs === null ? null : req.at + req.durationMs,
      rule: req.rule,
      reason: req.reason,
      severity: "warning",
      evidence: req.evidence ?? {},
      offence: this.guard.offencesOf(ip, req.at) + 1,
      createdBy: req.actor,
    };
    await this.health.must("ban", () => this.store.insertBan(ban));
    this.guard.applyBan({ address: ip, until: ban.until ?? Number.MAX_SAFE_INTEGER, rule: ban.rule });
    await this.enforce(ban);
    return { ...ban, liftedAt: null, liftedBy: null, liftReason: null };
  }

  async lift(id: string, reason: string, actor: string, now: number): Promise<BanRecord> {
    const ban = await this.store.getBan(id);
    if (!ban) throw new MamoriError("MAMORI_NOT_FOUND", `no ban with id ${id}`);
    if (ban.liftedAt !== null) throw new MamoriError("MAMORI_CONFLICT", `ban ${id} was already lifted`);
    await this.health.must("lift ban", () => this.store.liftBan(id, actor, reason, now));
    this.guard.liftBan(ban.address);
    for (const fn of this.liftListeners) fn(ban);
    for (const e of this.enforcers) {
      try {
        await e.unban(ban.address);
      } catch (err) {
        this.enforcementFailed(e, err);
      }
    }
    void this.webhooks.enqueue(
      [
        {
          event: "ban.lift",
          at: new Date(now).toISOString(),
          banId: id,
          address: ban.address,
          by: actor,
          reason,
        },
      ],
      now,
    );
    return { ...ban, liftedAt: now, liftedBy: actor, liftReason: reason };
  }

  private async handle(out: PbxOutcome): Promise<void> {
    for (const req of out.bans) await this.banFromGuard(req);
    const alerts: Alert[] = out.findings.map((f) => ({
      at: f.at,
      rule: f.rule,
      severity: f.severity,
      account: f.subject,
      callId: undefined,
      decision: f.decision === "ban" ? "block" : f.decision === "report" ? "report" : "allow",
      message: f.message,
      evidence: { ...f.evidence, decision: f.decision },
    }));
    if (alerts.length) {
      await this.health.try("pbx alerts", () => this.store.insertAlerts(alerts, "pbx"));
      for (const a of alerts) this.metrics.alerts.inc({ guard: "pbx", rule: a.rule, severity: a.severity });
      void this.webhooks.enqueue(
        alerts.map(
          (a) => ({ ...a, event: "alert", guard: "pbx", at: new Date(a.at).toISOString() }) as WebhookEvent,
        ),
        alerts[0]?.at ?? Date.now(),
      );
    }
    for (const f of out.findings) {
      if (!f.blockAccount) continue;
      const b = f.blockAccount;
      try {
        await this.calls.block(b.account, b.reason, f.at + b.durationMs, "pbx-guard", f.at);
      } catch (err) {
        this.log.error({ err, account: b.account }, "could not block the compromised account");
      }
    }
    if (out.accountFlags.length)
      await this.health.try("account flags", () => this.store.insertAccountFlags(out.accountFlags));
    if (out.learned.length)
      await this.health.try("learned places", () =>
        this.store.addLearnedPlaces(
          out.learned.flatMap((p) => [
            ...(p.network
              ? [{ account: p.account, kind: "network" as const, value: p.network, firstAt: p.at }]
              : []),
            ...(p.country
              ? [{ account: p.account, kind: "country" as const, value: p.country, firstAt: p.at }]
              : []),
          ]),
        ),
      );
  }

  private async banFromGuard(req: BanRequest): Promise<void> {
    const ban: Ban = {
      id: newBanId(req.at),
      guard: "pbx",
      address: req.address,
      createdAt: req.at,
      until: req.at + req.durationMs,
      rule: req.rule,
      reason: req.reason,
      severity: req.severity,
      evidence: req.evidence,
      offence: req.offence,
      createdBy: "engine",
    };
    // Stored before it is enforced; if the store refuses, the ban is still enforced (it is in the
    // guard's memory and the kernel's set) and /health says the store is degraded.
    await this.health.try("ban", () => this.store.insertBan(ban));
    this.metrics.bans.inc({ guard: "pbx", rule: req.rule });
    await this.enforce(ban);
  }

  private async enforce(ban: Ban): Promise<void> {
    const ms = ban.until === null ? 365 * DAY : Math.max(1000, ban.until - ban.createdAt);
    for (const e of this.enforcers) {
      try {
        await e.ban(ban.address, ms);
        this.enforcementErrors.delete(e.name);
      } catch (err) {
        this.enforcementFailed(e, err);
      }
    }
    void this.webhooks.enqueue(
      [
        {
          event: "ban",
          at: new Date(ban.createdAt).toISOString(),
          banId: ban.id,
          guard: ban.guard,
          address: ban.address,
          until: iso(ban.until),
          rule: ban.rule,
          reason: ban.reason,
          offence: ban.offence,
          evidence: ban.evidence,
        },
      ],
      ban.createdAt,
    );
  }

  private enforcementFailed(e: BanEnforcer, err: unknown): void {
    const msg = (err as Error)?.message ?? String(err);
    if (this.enforcementErrors.get(e.name) !== msg)
      this.log.error({ err, enforcer: e.name }, "ban enforcement failed");
    this.enforcementErrors.set(e.name, msg);
  }
}

function newBanId(at: number): string {
  return "ban-" + at.toString(36) + "-" + randomBytes(3).toString("hex");
}
