import type { CallAnswer, CallAttempt, CallHangup } from "../core/call-events.js";
import type { Finding } from "../core/findings.js";
import { AccountState } from "./account-state.js";
import {
  checkCaps,
  checkInternational,
  checkSpendCaps,
  countInternational,
  raise,
} from "./attempt-checks.js";
import { effectiveRemedy, resolveFindings } from "./decide.js";
import { emergencyNumbersFor } from "./emergency.js";
import { checkLiveCall, type LiveCall } from "./live-checks.js";
import type { NumberInfo } from "./number-info.js";
import { classifyNumber, type NumberingData } from "./numbering.js";
import { type AccountPolicy, type PolicyDefaults, type ResolvedPolicy, resolvePolicy } from "./policy.js";
import { type RuleId, ruleCatalogue } from "./rules.js";
import type { Alert, Block, Outcome, Termination, Verdict } from "./verdict.js";

/**
 * The call guard: answers "may this call proceed?" and follows calls while they are up.
 *
 * Pure: every method takes its time from the event it is given, so the same object serves live traffic,
 * a replay of last month's CDRs and deterministic tests. It returns what should be recorded and done
 * (verdicts, alerts, blocks, terminations); the adapters around it store and carry those out.
 */
export type GuardOptions = {
  readonly numbering: NumberingData;
  readonly defaults: PolicyDefaults;
  /** Holiday calendars by name ("jp"), as sets of YYYY-MM-DD. */
  readonly holidays?: ReadonlyMap<string, ReadonlySet<string>> | undefined;
  /** Minutes assumed for a call at authorize time, to estimate its cost before it has any. */
  readonly assumedCallMinutes?: number | undefined;
  /** One alert per account and rule within this many minutes; repeats are counted, not re-sent. */
  readonly alertSuppressMinutes?: number | undefined;
  /** An unanswered call with no hang-up is forgotten after this many minutes. */
  readonly ringTimeoutMinutes?: number | undefined;
  /** An answered call with no hang-up is forgotten after this many hours. */
  readonly staleCallHours?: number | undefined;
  readonly extraEmergencyNumbers?: readonly string[] | undefined;
  /** Makes ids for blocks; deterministic by default so that replays repeat exactly. */
  readonly newId?: ((kind: "block") => string) | undefined;
};

const MINUTE = 60_000;
/** How long a denied call's answer is kept so that a switch's retry gets the same answer. */
const REPEAT_MS = MINUTE;
const MAX_REMEMBERED = 100_000;

export type GuardStats = {
  authorized: number;
  denied: number;
  repeats: number;
  answersIgnored: number;
  hangupsIgnored: number;
  staleCalls: number;
  /** Estimated cost of allowed international calls, corrected at hang-up: the console's spend chart. */
  internationalSpend: number;
};

export class CallGuard {
  private readonly opts: GuardOptions;
  private readonly assumedMinutes: number;
  private readonly suppressMs: number;
  private readonly policies = new Map<string, AccountPolicy>();
  private readonly states = new Map<string, AccountState>();
  /*
   * Live calls, split by state for the clock: calls still ringing in the order they were allowed
   * (close to event-time order), so that those past the ring timeout are dropped from the front without
   * looking at the rest; and answered calls, the only ones whose limits the clock checks. With hundreds
   * of thousands of calls up, one pass over all of them every second stalled every decision behind it
   * for tens of milliseconds.
   */
  private readonly ringing = new Map<string, LiveCall>();
  private readonly answered = new Map<string, LiveCall>();
  private readonly denied = new Map<string, Verdict>();
  private readonly ended = new Map<string, number>();
  private readonly emergency = new Map<string, ReadonlySet<string>>();
  private seq = 0;
  readonly stats: GuardStats = {
    authorized: 0,
    denied: 0,
    repeats: 0,
    answersIgnored: 0,
    hangupsIgnored: 0,
    staleCalls: 0,
    internationalSpend: 0,
  };

  constructor(opts: GuardOptions) {
    this.opts = opts;
    this.assumedMinutes = opts.assumedCallMinutes ?? 2;
    this.suppressMs = (opts.alertSuppressMinutes ?? 30) * MINUTE;
  }

  // ---- policies and remembered state ------------------------------------------------------------

  setPolicy(policy: AccountPolicy): void {
    this.policies.set(policy.id, policy);
    const s = this.states.get(policy.id);
    if (s) s.policy = this.resolve(policy.id);
  }

  removePolicy(id: string): void {
    this.policies.delete(id);
    const s = this.states.get(id);
    if (s) s.policy = this.resolve(id);
  }

  policyOf(id: string): ResolvedPolicy {
    return this.states.get(id)?.policy ?? this.resolve(id);
  }

  /** Countries the account has called before (from the store at start), and since when it is known. */
  seedHistory(account: string, countries: Iterable<string>, firstSeenAt: number): void {
    const s = this.stateFor(account, firstSeenAt);
    s.firstSeenAt = Math.min(s.firstSeenAt, firstSeenAt);
    for (const c of countries) s.seenCountries.add(c);
  }

  applyBlock(block: Block): void {
    const s = this.stateFor(block.account, block.createdAt);
    if (!s.block || s.block.id !== block.id) s.block = pickLonger(s.block, block);
  }

  /** Lifts a block; returns false when the guard did not hold it. */
  liftBlock(id: string): boolean {
    for (const s of this.states.values()) {
      if (s.block?.id === id) {
        s.block = undefined;
        return true;
      }
    }
    return false;
  }

  /** Spend and live calls of an account as the guard counts them now, next to its caps. */
  usage(account: string, at: number) {
    const s = this.states.get(account);
    return {
      live: s?.live ?? 0,
      spendLastHour: s ? s.spend.sum(at) : 0,
      spendToday: s ? s.spendToday(at) : 0,
      spendThisMonth: s ? s.spendThisMonth(at) : 0,
      caps: (s?.policy ?? this.resolve(account)).caps,
    };
  }

  activeBlock(account: string, at: number): Block | undefined {
    const b = this.states.get(account)?.block;
    return b && (b.until === null || b.until > at) ? b : undefined;
  }

  /** Re-creates a call that was up before a restart, so that its hang-up and its limits still count. */
  restoreCall(attempt: CallAttempt, answeredAt: number | undefined, estimate: number): void {
    if (this.liveCall(attempt.callId)) return;
    const s = this.stateFor(attempt.account, attempt.at);
    const r = classifyNumber(attempt.to, this.dialContext(s.policy), this.opts.numbering);
    const number = r.ok ? r.value : undefined;
    this.addLive(this.newLiveCall(attempt, s, number, estimate, answeredAt));
    s.live++;
  }

  liveCallKnown(callId: string): boolean {
    return this.liveCall(callId) !== undefined;
  }

  liveTotal(): number {
    return this.ringing.size + this.answered.size;
  }

  liveCount(account: string): number {
    return this.states.get(account)?.live ?? 0;
  }

  *liveCalls(): IterableIterator<LiveCall> {
    yield* this.ringing.values();
    yield* this.answered.values();
  }

  // ---- the call path ------------------------------------------------------------------------------

  authorize(a: CallAttempt): Verdict {
    const up = this.liveCall(a.callId);
    if (up) {
      this.stats.repeats++;
      return repeatOfAllowed(up, a.at);
    }
    const denied = this.denied.get(a.callId);
    if (denied) {
      this.stats.repeats++;
      return { ...denied, repeat: true };
    }
    const s = this.stateFor(a.account, a.at);
    if (a.at > s.lastEventAt) s.lastEventAt = a.at;
    const policy = s.policy;
    if (a.to.length <= 8 && this.emergencyFor(policy.country).has(a.to.replace(/[^\d]/g, ""))) {
      return this.admit(a, s, undefined, 0, [], emptyRes);
    }

    const findings: Finding[] = [];
    const parsed = classifyNumber(a.to, this.dialContext(policy), this.opts.numbering);
    if (!parsed.ok) {
      // Service numbers too short for a full number (117 time, 177 weather) are local and free.
      if (/^\d{3,6}$/.test(a.to.trim())) return this.admit(a, s, undefined, 0, [], emptyRes);
      raise({ at: a.at, state: s, findings }, "invalid-number", parsed.error.message, {
        to: a.to,
        code: parsed.error.code,
      });
      return this.conclude(a, s, undefined, 0, findings);
    }
    const number = parsed.value;
    const rate = number.rate;
    const estimate = rate ? rate.perCall + rate.perMinute * this.assumedMinutes : 0;
    const ctx = { state: s, at: a.at, number, estimate, holidays: this.holidaysOf(policy), findings };
    let blocked = false;
    if (number.international) {
      const block = this.activeBlock(a.account, a.at);
      if (block && policy.rules["account-blocked"].mode !== "off") {
        blocked = true;
        raise(ctx, "account-blocked", `international calling is blocked: ${block.reason}`, {
          blockId: block.id,
          until: block.until === null ? null : new Date(block.until).toISOString(),
        });
      }
      if (policy.international === "off" && policy.rules["international-barred"].mode !== "off") {
        raise(ctx, "international-barred", "international calls are not allowed for this account", {
          to: "+" + number.e164,
          country: number.country,
        });
      } else if (
        policy.international === "allow-list" &&
        !policy.allowedCountries.has(number.country ?? "") &&
        policy.rules["country-not-allowed"].mode !== "off"
      ) {
        raise(
          ctx,
          "country-not-allowed",
          `calls to ${number.country ?? "+" + number.countryCallingCode} are not on this account's allow-list`,
          {
            to: "+" + number.e164,
            country: number.country,
            allowed: [...policy.allowedCountries],
          },
        );
      }
    }
    checkCaps(ctx);
    checkSpendCaps(ctx);
    if (number.international && !blocked) checkInternational(ctx);
    if (number.international) {
      countInternational(s, a.at, number, number.risk !== undefined && s.isOffHours(a.at, ctx.holidays));
    }
    return this.conclude(a, s, number, estimate, findings);
  }

  answer(e: CallAnswer): Outcome {
    const call = this.liveCall(e.callId);
    if (!call || call.answeredAt !== undefined) {
      this.stats.answersIgnored++;
      return noOutcome;
    }
    call.answeredAt = Math.max(e.at, call.attemptAt);
    this.ringing.delete(e.callId);
    this.answered.set(e.callId, call);
    return noOutcome;
  }

  hangup(e: CallHangup): Outcome {
    const call = this.liveCall(e.callId);
    if (!call) {
      this.stats.hangupsIgnored++;
      this.remember(this.ended, e.callId, e.at);
      return noOutcome;
    }
    this.dropLive(e.callId);
    this.remember(this.ended, e.callId, e.at);
    const s = this.states.get(call.account);
    if (s) s.live = Math.max(0, s.live - 1);
    const billsec =
      e.billsec ?? (call.answeredAt !== undefined ? Math.max(0, (e.at - call.answeredAt) / 1000) : 0);
    const answered = call.answeredAt !== undefined || billsec > 0;
    const cost = answered ? call.perCall + (call.perMinute * billsec) / 60 : 0;
    if (s) s.correctSpend(call.attemptAt, e.at, cost - call.estimate);
    if (call.international) this.stats.internationalSpend += cost - call.estimate;
    return {
      alerts: [],
      terminations: [],
      ended: { callId: call.callId, account: call.account, billsec, cost },
    };
  }

  /**
   * Moves the guard's clock to `now`: ends calls past their limits while they are still up, forgets
   * calls whose hang-up never came, lets blocks expire and old answers go.
   */
  tick(now: number): Outcome {
    const alerts: Alert[] = [];
    const terminations: Termination[] = [];
    const ringTimeout = (this.opts.ringTimeoutMinutes ?? 10) * MINUTE;
    const staleMs = (this.opts.staleCallHours ?? 24) * 60 * MINUTE;
    for (const call of this.ringing.values()) {
      if (now - call.attemptAt <= ringTimeout) break;
      this.dropStale(call);
    }
    for (const call of this.answered.values()) {
      const s = this.states.get(call.account);
      if (!s) continue;
      if (now - (call.answeredAt ?? call.attemptAt) > staleMs) {
        this.dropStale(call);
        continue;
      }
      if (call.terminated) continue;
      const findings: Finding[] = [];
      checkLiveCall(call, s, now, findings);
      for (const f of findings) {
        const mode = s.policy.rules[f.rule as RuleId]?.mode ?? "enforce";
        if (mode === "enforce") {
          call.terminated = true;
          terminations.push({
            at: now,
            callId: call.callId,
            account: call.account,
            rule: f.rule,
            message: f.message,
          });
        }
        alerts.push(
          this.alertFrom(f, call.account, call.callId, mode === "enforce" ? "terminate" : "report"),
        );
      }
    }
    this.forgetBefore(this.denied, now - REPEAT_MS, (v) => v.at);
    this.forgetBefore(this.ended, now - REPEAT_MS, (t) => t);
    for (const [id, s] of this.states) {
      if (s.block && s.block.until !== null && s.block.until <= now) s.block = undefined;
      if (!s.policy.known && s.live === 0 && !s.block && now - s.lastEventAt > 2 * 60 * MINUTE)
        this.states.delete(id);
    }
    return { alerts, terminations };
  }

  // ---- internals ------------------------------------------------------------------------------------

  private conclude(
    a: CallAttempt,
    s: AccountState,
    number: NumberInfo | undefined,
    estimate: number,
    findings: Finding[],
  ): Verdict {
    // Most calls raise nothing: no resolution to build.
    if (findings.length === 0) return this.admit(a, s, number, estimate, findings, emptyRes);
    const res = resolveFindings(findings, s.policy.rules);
    if (res.deny.length === 0) return this.admit(a, s, number, estimate, findings, res);
    this.stats.denied++;
    let block: Block | undefined;
    if (res.block) {
      const minutes =
        (s.policy.rules[res.block.rule as RuleId] as { blockMinutes?: number }).blockMinutes ?? 1440;
      block = {
        id: this.opts.newId?.("block") ?? `blk-${a.at.toString(36)}-${(this.seq++).toString(36)}`,
        account: a.account,
        scope: "international",
        createdAt: a.at,
        until: a.at + minutes * MINUTE,
        rule: res.block.rule,
        reason: res.block.message,
        evidence: { ...res.block.evidence, callId: a.callId, to: a.to },
        createdBy: "engine",
      };
      s.block = pickLonger(s.block, block);
    }
    const verdict: Verdict = {
      callId: a.callId,
      account: a.account,
      at: a.at,
      decision: "deny",
      reasons: res.deny,
      reportOnly: res.reportOnly,
      findings,
      number,
      estimatedCost: estimate,
      block,
      alerts: this.alertsFor(findings, s, a, block ? "block" : "deny", block !== undefined),
      learnedCountry: undefined,
      repeat: false,
    };
    // Kept only to answer a retry the same way; findings, alerts and the block were reported already.
    this.remember(this.denied, a.callId, {
      ...verdict,
      findings: [],
      alerts: [],
      block: undefined,
      number: undefined,
    });
    return verdict;
  }

  private admit(
    a: CallAttempt,
    s: AccountState,
    number: NumberInfo | undefined,
    estimate: number,
    findings: Finding[],
    res: { reportOnly: readonly { rule: string; message: string }[] },
  ): Verdict {
    this.stats.authorized++;
    s.attempts.add(a.at, 1);
    s.addSpend(a.at, estimate);
    let learned: string | undefined;
    if (number?.international) {
      this.stats.internationalSpend += estimate;
      const country = number.country ?? "+" + number.countryCallingCode;
      if (!s.seenCountries.has(country)) {
        s.seenCountries.add(country);
        learned = country;
      }
    }
    const verdict: Verdict = {
      callId: a.callId,
      account: a.account,
      at: a.at,
      decision: "allow",
      reasons: [],
      reportOnly: res.reportOnly,
      findings,
      number,
      estimatedCost: estimate,
      block: undefined,
      alerts: this.alertsFor(findings, s, a, "allow", false),
      learnedCountry: learned,
      repeat: false,
    };
    this.addLive(this.newLiveCall(a, s, number, estimate, undefined));
    s.live++;
    return verdict;
  }

  private liveCall(callId: string): LiveCall | undefined {
    return this.ringing.get(callId) ?? this.answered.get(callId);
  }

  private addLive(call: LiveCall): void {
    if (call.answeredAt === undefined) this.ringing.set(call.callId, call);
    else this.answered.set(call.callId, call);
  }

  private dropLive(callId: string): void {
    this.ringing.delete(callId);
    this.answered.delete(callId);
  }

  /** A call whose hang-up never came: forgotten, and no longer counted against its account. */
  private dropStale(call: LiveCall): void {
    this.dropLive(call.callId);
    const s = this.states.get(call.account);
    if (s) s.live = Math.max(0, s.live - 1);
    this.stats.staleCalls++;
  }

  private newLiveCall(
    a: CallAttempt,
    s: AccountState,
    number: NumberInfo | undefined,
    estimate: number,
    answeredAt: number | undefined,
  ): LiveCall {
    return {
      callId: a.callId,
      account: s.policy.id,
      attemptAt: a.at,
      answeredAt,
      e164: number?.e164,
      international: number?.international ?? false,
      perMinute: number?.rate?.perMinute ?? 0,
      perCall: number?.rate?.perCall ?? 0,
      estimate,
      terminated: false,
      number,
    };
  }

  private alertsFor(
    findings: readonly Finding[],
    s: AccountState,
    a: CallAttempt,
    outcome: "allow" | "deny" | "block",
    blocked: boolean,
  ): Alert[] {
    const alerts: Alert[] = [];
    for (const f of findings) {
      if (ruleCatalogue[f.rule as RuleId]?.kind !== "detector") continue;
      const mode = s.policy.rules[f.rule as RuleId]?.mode;
      const remedy = effectiveRemedy(f, s.policy.rules);
      const causedBlock = blocked && remedy === "block" && mode === "enforce";
      const last = s.lastAlertAt.get(f.rule);
      if (!causedBlock && last !== undefined && a.at - last < this.suppressMs && a.at >= last) continue;
      s.lastAlertAt.set(f.rule, a.at);
      const decision =
        mode === "report" && remedy !== "alert"
          ? "report"
          : causedBlock
            ? "block"
            : outcome === "block"
              ? "deny"
              : outcome;
      alerts.push(this.alertFrom(f, a.account, a.callId, decision));
    }
    return alerts;
  }

  private alertFrom(
    f: Finding,
    account: string,
    callId: string | undefined,
    decision: Alert["decision"],
  ): Alert {
    return {
      at: f.at,
      rule: f.rule,
      severity: f.severity,
      account,
      callId,
      decision,
      message: f.message,
      evidence: f.evidence,
    };
  }

  private stateFor(account: string, at: number): AccountState {
    let s = this.states.get(account);
    if (!s) {
      s = new AccountState(this.resolve(account), at);
      this.states.set(account, s);
    }
    return s;
  }

  private resolve(id: string): ResolvedPolicy {
    return resolvePolicy(this.policies.get(id), this.opts.defaults, id);
  }

  private dialContext(p: ResolvedPolicy) {
    return p.dial;
  }

  private holidaysOf(p: ResolvedPolicy): ReadonlySet<string> | undefined {
    return p.holidayCalendar === "none" ? undefined : this.opts.holidays?.get(p.holidayCalendar);
  }

  private emergencyFor(country: string): ReadonlySet<string> {
    let set = this.emergency.get(country);
    if (!set) {
      set = emergencyNumbersFor(country, this.opts.extraEmergencyNumbers);
      this.emergency.set(country, set);
    }
    return set;
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= MAX_REMEMBERED) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    map.set(key, value);
  }

  /** Maps keep insertion order, which is close to event-time order: drop from the front while old. */
  private forgetBefore<V>(map: Map<string, V>, cutoff: number, timeOf: (v: V) => number): void {
    for (const [k, v] of map) {
      if (timeOf(v) >= cutoff) break;
      map.delete(k);
    }
  }
}

const noOutcome: Outcome = { alerts: [], terminations: [] };

/** The answer to a switch asking again about a call it was allowed to place. */
function repeatOfAllowed(c: LiveCall, at: number): Verdict {
  return {
    callId: c.callId,
    account: c.account,
    at,
    decision: "allow",
    reasons: [],
    reportOnly: [],
    findings: [],
    number: c.number,
    estimatedCost: c.estimate,
    block: undefined,
    alerts: [],
    learnedCountry: undefined,
    repeat: true,
  };
}
const emptyRes = { reportOnly: [] as const };

function pickLonger(current: Block | undefined, next: Block): Block {
  if (!current) return next;
  if (current.until === null) return current;
  if (next.until === null || next.until > current.until) return next;
  return current;
}
