import type { Logger } from "pino";
import type { WebhookDispatcher, WebhookEvent } from "../adapters/actions/webhook/webhook.js";
import type { BlockRecord, Store } from "../adapters/store/store.js";
import type { CallGuard } from "../calls/guard.js";
import type { AccountPolicy } from "../calls/policy.js";
import type { Alert, Block, Outcome, Termination, Verdict } from "../calls/verdict.js";
import type { CallAttempt } from "../core/call-events.js";
import { MamoriError } from "../core/errors.js";
import type { Metrics } from "./metrics.js";
import type { StoreHealth } from "./store-health.js";

/**
 * The call guard as a service: the pure guard, the store, metrics and actions, glued in one place. The
 * HTTP API and the CLI both call these methods, so they behave the same.
 *
 * Order matters: a decision and what it causes (block, alerts) are stored before the answer goes back
 * to the switch; actions (webhooks, call termination) run after and never delay the answer.
 */
export type TerminationSink = (t: Termination, dialog: SwitchDialog | undefined) => Promise<void> | void;

export type SwitchDialog = {
  readonly hEntry: number;
  readonly hId: number;
  readonly fromTag?: string | undefined;
  readonly toTag?: string | undefined;
};

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A decision and whether it reached the store (false while the store refuses writes). */
export type Authorized = { readonly verdict: Verdict; readonly stored: boolean };

const ALLOWED = { decision: "allow", rule: "" } as const;

export class CallService {
  private readonly terminationSinks: TerminationSink[] = [];
  private readonly allowedInternational: ((account: string, at: number) => Promise<void> | void)[] = [];

  constructor(
    readonly guard: CallGuard,
    private readonly store: Store,
    private readonly health: StoreHealth,
    private readonly webhooks: WebhookDispatcher,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** Registers a way to end live calls (Kamailio RPC, AMI, …); webhooks always get the event too. */
  onTerminate(sink: TerminationSink): void {
    this.terminationSinks.push(sink);
  }

  /** Called after an international call is allowed (the PBX guard's compromise chain watches for it). */
  onInternationalAllowed(fn: (account: string, at: number) => Promise<void> | void): void {
    this.allowedInternational.push(fn);
  }

  /** Loads everything the guard must remember from the store: policies, history, blocks, live calls. */
  async restore(now: number, staleCallHours: number): Promise<void> {
    for (const p of await this.store.listAccounts()) this.guard.setPolicy(p);
    const history = new Map<string, { countries: string[]; first: number }>();
    for (const r of await this.store.seenCountries()) {
      const h = history.get(r.account) ?? { countries: [], first: r.firstAt };
      h.countries.push(r.country);
      h.first = Math.min(h.first, r.firstAt);
      history.set(r.account, h);
    }
    for (const [account, h] of history) this.guard.seedHistory(account, h.countries, h.first);
    for (const b of await this.store.listBlocks({ activeAt: now, limit: 1000 })) this.guard.applyBlock(b);
    const open = await this.store.openCalls(now - staleCallHours * 3_600_000);
    for (const c of open)
      this.guard.restoreCall(
        { type: "call.attempt", at: c.at, callId: c.callId, account: c.account, to: c.to },
        c.answeredAt ?? undefined,
        c.estimatedCost,
      );
    this.log.info({ accounts: history.size, openCalls: open.length }, "call guard state restored");
  }

  async authorize(a: CallAttempt): Promise<Authorized> {
    const t0 = performance.now();
    const v = this.guard.authorize(a);
    const stored = v.repeat ? true : await this.health.settle("decision", this.store.recordVerdict(v));
    this.metrics.decisions.inc(
      v.decision === "allow" ? ALLOWED : { decision: v.decision, rule: v.reasons[0]?.rule ?? "" },
    );
    if (v.alerts.length > 0 || v.block) this.afterVerdict(v);
    if (v.decision === "allow" && v.number?.international && !v.repeat)
      for (const fn of this.allowedInternational) {
        try {
          await fn(v.account, v.at);
        } catch (err) {
          this.log.error({ err }, "international-call listener failed");
        }
      }
    this.metrics.authorizeSeconds.observe((performance.now() - t0) / 1000);
    return { verdict: v, stored };
  }

  /** Dialog identifiers a switch gave with the answer (Kamailio), for ending the call later. */
  readonly dialogs = new Map<string, SwitchDialog>();

  async answer(callId: string, at: number, dialog?: SwitchDialog): Promise<{ known: boolean }> {
    const known = this.guard.liveCallKnown(callId);
    if (known && dialog) {
      if (this.dialogs.size >= 200_000) {
        const first = this.dialogs.keys().next();
        if (!first.done) this.dialogs.delete(first.value);
      }
      this.dialogs.set(callId, dialog);
    }
    this.guard.answer({ type: "call.answer", at, callId });
    if (known) await this.health.try("answer", () => this.store.recordAnswer(callId, at));
    return { known };
  }

  async hangup(callId: string, at: number, billsec?: number): Promise<{ known: boolean; cost?: number }> {
    const out = this.guard.hangup({ type: "call.hangup", at, callId, billsec });
    this.dialogs.delete(callId);
    if (out.ended) {
      const { billsec: b, cost } = out.ended;
      await this.health.try("hangup", () => this.store.recordHangup(callId, at, b, cost));
      return { known: true, cost };
    }
    return { known: false };
  }

  /** The clock: live limits, stale calls, block expiry. Called every second by the composition root. */
  async tick(now: number): Promise<Outcome> {
    const out = this.guard.tick(now);
    if (out.alerts.length > 0) {
      await this.health.try("alerts", () => this.store.insertAlerts(out.alerts, "calls"));
      this.countAlerts(out.alerts);
    }
    for (const t of out.terminations) {
      this.metrics.terminations.inc({ rule: t.rule });
      await this.health.try("audit", () =>
        this.store.appendAudit({
          at: t.at,
          actor: "engine",
          action: "call.terminate",
          subject: t.account,
          detail: { callId: t.callId, rule: t.rule, message: t.message },
        }),
      );
      for (const sink of this.terminationSinks) {
        try {
          await sink(t, this.dialogs.get(t.callId));
        } catch (err) {
          this.log.error({ err, callId: t.callId }, "could not end the call");
        }
      }
    }
    const events: WebhookEvent[] = [
      ...out.alerts.map((a) => alertEvent(a)),
      ...out.terminations.map((t) => ({
        event: "terminate" as const,
        ...t,
        at: new Date(t.at).toISOString(),
      })),
    ];
    void this.webhooks.enqueue(events, now);
    this.metrics.liveCalls.set(this.guard.liveTotal());
    return out;
  }

  // ---- blocks, by people

  async block(
    account: string,
    reason: string,
    until: number | null,
    actor: string,
    now: number,
  ): Promise<BlockRecord> {
    const b: Block = {
      id: "blk-" + now.toString(36) + "-" + Math.random().toString(36).slice(2, 8),
      account,
      scope: "international",
      createdAt: now,
      until,
      rule: "manual",
      reason,
      evidence: {},
      createdBy: actor,
    };
    await this.health.must("block", () => this.store.insertBlock(b));
    this.guard.applyBlock(b);
    this.metrics.blocks.inc({ rule: "manual" });
    void this.webhooks.enqueue([blockEvent(b)], now);
    return { ...b, liftedAt: null, liftedBy: null, liftReason: null };
  }

  async lift(id: string, reason: string, actor: string, now: number): Promise<BlockRecord> {
    const existing = await this.store.getBlock(id);
    if (!existing) throw new MamoriError("MAMORI_NOT_FOUND", `no block with id ${id}`);
    if (existing.liftedAt !== null)
      throw new MamoriError("MAMORI_CONFLICT", `block ${id} was already lifted`);
    await this.health.must("lift block", () => this.store.liftBlock(id, actor, reason, now));
    this.guard.liftBlock(id);
    // Another block in force for the account (a longer one) stays in force.
    for (const b of await this.store.listBlocks({ account: existing.account, activeAt: now }))
      this.guard.applyBlock(b);
    void this.webhooks.enqueue(
      [
        {
          event: "block.lift",
          at: new Date(now).toISOString(),
          blockId: id,
          account: existing.account,
          by: actor,
          reason,
        },
      ],
      now,
    );
    return { ...existing, liftedAt: now, liftedBy: actor, liftReason: reason };
  }

  // ---- accounts, by people

  async putAccount(policy: AccountPolicy, actor: string, now: number): Promise<"created" | "updated"> {
    const r = await this.health.must("account", () => this.store.putAccount(policy, actor, now));
    this.guard.setPolicy(policy);
    return r;
  }

  async deleteAccount(id: string, actor: string, now: number): Promise<boolean> {
    const r = await this.health.must("account", () => this.store.deleteAccount(id, actor, now));
    if (r) this.guard.removePolicy(id);
    return r;
  }

  private afterVerdict(v: Verdict): void {
    this.countAlerts(v.alerts);
    if (v.block) this.metrics.blocks.inc({ rule: v.block.rule });
    const events: WebhookEvent[] = v.alerts.map((a) => alertEvent(a));
    if (v.block) events.push(blockEvent(v.block));
    void this.webhooks.enqueue(events, v.at);
  }

  private countAlerts(alerts: readonly Alert[]): void {
    for (const a of alerts) this.metrics.alerts.inc({ guard: "calls", rule: a.rule, severity: a.severity });
  }
}

function alertEvent(a: Alert): WebhookEvent {
  return { ...a, event: "alert", guard: "calls", at: new Date(a.at).toISOString() };
}

function blockEvent(b: Block): WebhookEvent {
  return {
    event: "block",
    at: new Date(b.createdAt).toISOString(),
    blockId: b.id,
    account: b.account,
    scope: b.scope,
    until: iso(b.until),
    rule: b.rule,
    reason: b.reason,
    evidence: b.evidence,
    createdBy: b.createdBy,
  };
}
