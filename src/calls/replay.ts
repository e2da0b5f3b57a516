import type { CallRecord } from "../core/call-events.js";
import { MinHeap } from "../core/heap.js";
import type { CallGuard } from "./guard.js";
import type { Alert, Outcome, Verdict } from "./verdict.js";

/**
 * Replays recorded calls through the same guard that serves live traffic, in event time, as the
 * counterfactual: a call the guard would have denied does not happen (it is not answered and costs
 * nothing), a call it would have ended stops at that moment. What the denied and shortened calls really
 * cost is the money each alert would have saved.
 *
 * CDRs are written when calls end, so they arrive ordered by end time; a reorder buffer (a heap keyed by
 * event time) releases an attempt once no record can still arrive with an earlier start (the horizon:
 * the longest call expected). Memory is bounded by the traffic within the horizon.
 */
export type ReplayAlert = Alert & {
  /** Estimated cost of the calls this alert's block or termination stopped. */
  saved: number;
};

export type HourBucket = { calls: number; denied: number; cost: number; saved: number };

export type ReplayStats = {
  records: number;
  allowed: number;
  denied: number;
  terminated: number;
  /** Records whose start was before calls already replayed (beyond the horizon): replayed late. */
  late: number;
  /** Estimated cost of the calls allowed (as they really went, or until ended). */
  cost: number;
  /** Estimated cost of the calls denied or cut short: what the guard would have saved. */
  saved: number;
  firstAt: number | undefined;
  lastAt: number | undefined;
};

export type ReplayOptions = {
  /** Longest call expected; records may arrive this much out of order. */
  readonly horizonMs?: number | undefined;
  /** How often the guard's clock ticks in event time while calls are up (live limits). */
  readonly tickMs?: number | undefined;
  /** Receives each verdict as it is made (for labelled scoring). */
  readonly onVerdict?: ((v: Verdict, record: CallRecord) => void) | undefined;
};

type CallState = {
  readonly rec: CallRecord;
  readonly answerAt: number | undefined;
  readonly perMinute: number;
  readonly perCall: number;
  ended: boolean;
};

type Ev =
  | { readonly kind: "attempt"; readonly rec: CallRecord }
  | { readonly kind: "answer"; readonly s: CallState }
  | { readonly kind: "hangup"; readonly s: CallState };

const HOUR = 3_600_000;

export class Replayer {
  readonly stats: ReplayStats = {
    records: 0,
    allowed: 0,
    denied: 0,
    terminated: 0,
    late: 0,
    cost: 0,
    saved: 0,
    firstAt: undefined,
    lastAt: undefined,
  };
  readonly alerts: ReplayAlert[] = [];
  /** Per account, per hour (epoch ms of the hour's start): calls, denials, cost and savings. */
  readonly series = new Map<string, Map<number, HourBucket>>();
  private readonly heap = new MinHeap<Ev>();
  private readonly live = new Map<string, CallState>();
  private readonly blockAlert = new Map<string, ReplayAlert>();
  private readonly horizon: number;
  private readonly tickMs: number;
  private maxStart = Number.NEGATIVE_INFINITY;
  private clock = Number.NEGATIVE_INFINITY;
  private lastTick = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly guard: CallGuard,
    private readonly opts: ReplayOptions = {},
  ) {
    this.horizon = opts.horizonMs ?? 4 * HOUR;
    this.tickMs = opts.tickMs ?? 10_000;
  }

  push(rec: CallRecord): void {
    this.stats.records++;
    let at = rec.start;
    if (at < this.clock) {
      this.stats.late++;
      at = this.clock;
    }
    this.heap.push(at, { kind: "attempt", rec });
    if (rec.start > this.maxStart) this.maxStart = rec.start;
    this.drain(this.maxStart - this.horizon);
  }

  /** Replays everything still buffered; call once at the end of the input. */
  finish(): void {
    this.drain(Number.POSITIVE_INFINITY);
    if (Number.isFinite(this.clock)) this.handleOutcome(this.guard.tick(this.clock + 24 * HOUR));
  }

  private drain(upto: number): void {
    for (let k = this.heap.peekKey(); k !== undefined && k <= upto; k = this.heap.peekKey()) {
      const ev = this.heap.pop() as Ev;
      this.advance(k);
      if (ev.kind === "attempt") this.attempt(ev.rec, k);
      else if (ev.kind === "answer") {
        if (!ev.s.ended) this.guard.answer({ type: "call.answer", at: k, callId: ev.s.rec.callId });
      } else if (!ev.s.ended) {
        ev.s.ended = true;
        this.live.delete(ev.s.rec.callId);
        this.guard.hangup({ type: "call.hangup", at: k, callId: ev.s.rec.callId, billsec: ev.s.rec.billsec });
      }
    }
  }

  /** Moves the guard's clock to `t`, ticking on the way while calls are up so live limits fire on time. */
  private advance(t: number): void {
    if (t <= this.clock) return;
    if (this.live.size > 0) {
      let next = this.lastTick + this.tickMs;
      for (let steps = 0; next < t && steps < 100_000; steps++, next += this.tickMs) {
        this.handleOutcome(this.guard.tick(next));
        this.lastTick = next;
      }
    }
    this.clock = t;
    if (t - this.lastTick >= this.tickMs) {
      this.handleOutcome(this.guard.tick(t));
      this.lastTick = t;
    }
  }

  private attempt(rec: CallRecord, at: number): void {
    const v = this.guard.authorize({
      type: "call.attempt",
      at,
      callId: rec.callId,
      account: rec.account,
      to: rec.to,
      from: rec.from,
      sourceIp: rec.sourceIp,
    });
    this.opts.onVerdict?.(v, rec);
    this.stats.firstAt ??= at;
    this.stats.lastAt = at;
    const rate = v.number?.rate;
    const answered = rec.billsec > 0 || rec.answer !== undefined;
    const cost = answered && rate ? rate.perCall + (rate.perMinute * rec.billsec) / 60 : 0;
    const bucket = this.bucket(rec.account, at);
    bucket.calls++;
    for (const a of v.alerts) {
      const ra: ReplayAlert = { ...a, saved: 0 };
      this.alerts.push(ra);
      if (v.block && a.decision === "block") this.blockAlert.set(v.block.id, ra);
    }
    if (v.decision === "deny") {
      this.stats.denied++;
      this.stats.saved += cost;
      bucket.denied++;
      bucket.saved += cost;
      const blockId =
        v.block?.id ??
        (v.findings.find((f) => f.rule === "account-blocked")?.evidence.blockId as string | undefined);
      const owner = blockId === undefined ? undefined : this.blockAlert.get(blockId);
      if (owner) owner.saved += cost;
      return;
    }
    this.stats.allowed++;
    this.stats.cost += cost;
    bucket.cost += cost;
    const answerAt = answered ? (rec.answer ?? rec.end - rec.billsec * 1000) : undefined;
    const s: CallState = {
      rec,
      answerAt,
      perMinute: rate?.perMinute ?? 0,
      perCall: rate?.perCall ?? 0,
      ended: false,
    };
    this.live.set(rec.callId, s);
    if (answerAt !== undefined) this.heap.push(Math.max(at, answerAt), { kind: "answer", s });
    this.heap.push(Math.max(at, rec.end), { kind: "hangup", s });
  }

  private handleOutcome(out: Outcome): void {
    const cut = new Map<string, number>();
    for (const t of out.terminations) {
      const s = this.live.get(t.callId);
      if (!s || s.ended) continue;
      s.ended = true;
      this.live.delete(t.callId);
      this.stats.terminated++;
      const talked = s.answerAt === undefined ? 0 : Math.max(0, (t.at - s.answerAt) / 1000);
      const billsec = Math.min(s.rec.billsec, talked);
      const savedPart = (s.perMinute * (s.rec.billsec - billsec)) / 60;
      this.guard.hangup({ type: "call.hangup", at: t.at, callId: t.callId, billsec });
      this.stats.saved += savedPart;
      this.stats.cost -= savedPart;
      const b = this.bucket(s.rec.account, t.at);
      b.saved += savedPart;
      b.cost -= savedPart;
      cut.set(t.callId, savedPart);
    }
    for (const a of out.alerts)
      this.alerts.push({ ...a, saved: a.callId === undefined ? 0 : (cut.get(a.callId) ?? 0) });
  }

  private bucket(account: string, at: number): HourBucket {
    let m = this.series.get(account);
    if (!m) {
      m = new Map();
      this.series.set(account, m);
    }
    const h = Math.floor(at / HOUR) * HOUR;
    let b = m.get(h);
    if (!b) {
      b = { calls: 0, denied: 0, cost: 0, saved: 0 };
      m.set(h, b);
    }
    return b;
  }
}
