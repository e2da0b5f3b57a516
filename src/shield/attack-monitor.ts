import { SlotTable } from "./slot-table.js";
import type { ModeChange, ShieldMode } from "./types.js";

/**
 * Watches unknown traffic (anonymous and suspicious requests) second by second against its learned
 * baseline, and says when the shield enters and leaves attack mode.
 *
 * Four signals per second: request rate, the share of clients never seen before, the number of distinct
 * source networks, and the share of upstream answers that are overload errors. A second is hot at
 * `rateFactor` × the baseline rate, or at twice the rate with a jump in new clients or source networks
 * (a botnet shows up as many new addresses before it shows up as volume), or with the backend failing.
 * Entering takes `enterSeconds` hot seconds in a row; leaving takes `exitSeconds` calm ones (under
 * `exitFactor` × baseline, a lower bar than entering: hysteresis, so a pulsing attack does not flap the
 * mode) and at least `minSeconds` in attack mode. Baselines learn only from seconds that are not hot.
 *
 * Whole seconds make a patient judge: a flood would have `enterSeconds` and more to fill the backend's
 * spare capacity before anything is challenged. So a flood that is beyond doubt is entered at once:
 * when the unknown requests of the last second (a sliding window of tenths) already reach `fastFactor`
 * times the rate that makes a second hot, and most of them come from clients never seen before, as a
 * botnet's first second does. A client or two sending much (heavy hitters, a page and its assets) is
 * not new for long and is left to the per-second judgement and the rate limits.
 */
export type AttackMonitorOptions = {
  readonly enterSeconds: number;
  readonly fastFactor: number;
  readonly rateFactor: number;
  readonly minRps: number;
  readonly newClientJump: number;
  readonly spreadFactor: number;
  readonly errorShare: number;
  readonly exitSeconds: number;
  readonly exitFactor: number;
  readonly minSeconds: number;
  readonly learnSeconds: number;
  readonly baselineHalfLifeMinutes: number;
  readonly minBaselineRps: number;
  readonly knownClients: number;
  readonly prefixCapacity: number;
};

export type TrafficSecond = {
  readonly rps: number;
  readonly newShare: number;
  readonly spread: number;
  readonly errorShare: number;
};

/** Seconds of silence evaluated one by one at most; a longer gap is as calm as this many. */
const MAX_GAP = 3600;
const MIN_ANSWERS = 10;
const MAX_LEARNING_SAMPLES = 300;
/** The fast entry's sliding second, in tenths. */
const FAST_SLOTS = 10;
const FAST_SLOT_MS = 100;
/** Share of new clients in the last second that makes a fast entry a botnet's onset. */
const FAST_NEW_SHARE = 0.5;

export class AttackMonitor {
  private modeValue: ShieldMode = "normal";
  private sec = Number.NaN;
  private firstSec = Number.NaN;
  private enteredSec = 0;
  private hotRun = 0;
  private calmRun = 0;
  private reqs = 0;
  private fresh = 0;
  private spread = 0;
  private answers = 0;
  private errors = 0;
  private learning: TrafficSecond[] = [];
  /** Requests and new clients per tenth of the last second, for the fast entry. */
  private readonly fastReqs = new Int32Array(FAST_SLOTS);
  private readonly fastFresh = new Int32Array(FAST_SLOTS);
  private fastSlot = Number.NaN;
  private fastSumReqs = 0;
  private fastSumFresh = 0;
  private readonly known: SlotTable;
  private readonly prefixes: SlotTable;
  private readonly prefixSeen: Float64Array;
  private readonly alpha: number;
  /** Baselines: requests/s, new-client share, networks/s, error share. */
  base = { rps: 0, newShare: 0, spread: 0, errorShare: 0 };
  last: TrafficSecond = { rps: 0, newShare: 0, spread: 0, errorShare: 0 };

  constructor(private readonly o: AttackMonitorOptions) {
    this.known = new SlotTable(o.knownClients);
    this.prefixes = new SlotTable(o.prefixCapacity);
    this.prefixSeen = new Float64Array(o.prefixCapacity).fill(-1);
    this.alpha = 1 - 2 ** (-1 / (o.baselineHalfLifeMinutes * 60));
  }

  get mode(): ShieldMode {
    return this.modeValue;
  }

  /**
   * One request from an unknown client. Returns a mode change when a finished second decided one, or
   * when this request completes a botnet's onset (the fast entry).
   */
  observe(at: number, address: string, prefix: string): ModeChange | undefined {
    const change = this.tick(at);
    this.slide(at);
    const isNew = this.known.claim(address).isNew;
    const i = this.fastSlot % FAST_SLOTS;
    this.reqs++;
    this.fastSumReqs++;
    this.fastReqs[i] = (this.fastReqs[i] as number) + 1;
    if (isNew) {
      this.fresh++;
      this.fastSumFresh++;
      this.fastFresh[i] = (this.fastFresh[i] as number) + 1;
    }
    const p = this.prefixes.claim(prefix).slot;
    if (this.prefixSeen[p] !== this.sec) {
      this.prefixSeen[p] = this.sec;
      this.spread++;
    }
    return change ?? this.fastEntry(at);
  }

  /** A client the shield knows (customer, transaction) is remembered, so it is not new later. */
  remember(address: string): void {
    this.known.claim(address);
  }

  /** One upstream answer; `overload` for 502/503/504 and time-outs. */
  answer(at: number, overload: boolean): ModeChange | undefined {
    const change = this.tick(at);
    this.answers++;
    if (overload) this.errors++;
    return change;
  }

  /** Closes the seconds that ended before `at`; returns the mode change if one happened. */
  tick(at: number): ModeChange | undefined {
    const s = Math.floor(at / 1000);
    if (Number.isNaN(this.sec)) {
      this.sec = s;
      this.firstSec = s;
      return undefined;
    }
    let change: ModeChange | undefined;
    for (let k = 0; this.sec < s && k < MAX_GAP; k++) {
      change = this.close(this.sec) ?? change;
      this.sec++;
      this.reqs = this.fresh = this.spread = this.answers = this.errors = 0;
    }
    if (this.sec < s) this.sec = s;
    return change;
  }

  /** Moves the sliding second to `at`, forgetting the tenths that fell out of it. */
  private slide(at: number): void {
    const slot = Math.floor(at / FAST_SLOT_MS);
    if (Number.isNaN(this.fastSlot) || slot - this.fastSlot >= FAST_SLOTS) {
      this.fastReqs.fill(0);
      this.fastFresh.fill(0);
      this.fastSumReqs = this.fastSumFresh = 0;
      this.fastSlot = slot;
      return;
    }
    while (this.fastSlot < slot) {
      this.fastSlot++;
      const i = this.fastSlot % FAST_SLOTS;
      this.fastSumReqs -= this.fastReqs[i] as number;
      this.fastSumFresh -= this.fastFresh[i] as number;
      this.fastReqs[i] = 0;
      this.fastFresh[i] = 0;
    }
  }

  private fastEntry(at: number): ModeChange | undefined {
    const o = this.o;
    if (this.modeValue !== "normal" || o.fastFactor <= 0) return undefined;
    if (this.sec - this.firstSec < o.learnSeconds) return undefined;
    const baseRps = Math.max(this.base.rps, o.minBaselineRps);
    const hotRate = Math.max(o.minRps, o.rateFactor * baseRps);
    const n = this.fastSumReqs;
    if (n < o.fastFactor * hotRate) return undefined;
    // An absolute majority, not the learned share: every client is new in the first seconds after a
    // start, which leaves that baseline high for a long time on a quiet site.
    const newShare = this.fastSumFresh / n;
    if (newShare < FAST_NEW_SHARE) return undefined;
    const t: TrafficSecond = { rps: n, newShare, spread: this.spread, errorShare: this.last.errorShare };
    return this.switchTo(
      at,
      "attack",
      `unknown traffic at ${n} requests in the last second, ${(n / baseRps).toFixed(1)}× its baseline, ${Math.round(newShare * 100)}% new clients`,
      t,
    );
  }

  /** An operator's word: enter or leave attack mode now. */
  force(at: number, mode: ShieldMode, reason: string): ModeChange | undefined {
    if (mode === this.modeValue) return undefined;
    return this.switchTo(at, mode, reason);
  }

  private close(s: number): ModeChange | undefined {
    const o = this.o;
    const t: TrafficSecond = {
      rps: this.reqs,
      newShare: this.reqs > 0 ? this.fresh / this.reqs : 0,
      spread: this.spread,
      errorShare: this.answers >= MIN_ANSWERS ? this.errors / this.answers : 0,
    };
    this.last = t;
    if (s - this.firstSec < o.learnSeconds) {
      // The baseline starts at the median of the learning seconds: a burst at start (clients coming
      // back after a restart) must not become the norm.
      const every = Math.ceil(o.learnSeconds / MAX_LEARNING_SAMPLES);
      if ((s - this.firstSec) % every === 0) this.learning.push(t);
      if (s - this.firstSec === o.learnSeconds - 1) this.settleBaseline();
      return undefined;
    }
    if (this.learning.length > 0) this.settleBaseline();
    const b = this.base;
    const baseRps = Math.max(b.rps, o.minBaselineRps);
    const elevated = t.rps >= Math.max(o.minRps, 2 * baseRps);
    const hot =
      t.rps >= Math.max(o.minRps, o.rateFactor * baseRps) ||
      (elevated && t.newShare >= b.newShare + o.newClientJump) ||
      (elevated && t.spread >= o.spreadFactor * Math.max(b.spread, 1)) ||
      (t.rps >= o.minRps && t.errorShare >= o.errorShare);
    if (this.modeValue === "normal") {
      this.hotRun = hot ? this.hotRun + 1 : 0;
      if (!hot) this.blend(t, this.alpha);
      if (this.hotRun >= o.enterSeconds) return this.switchTo((s + 1) * 1000, "attack", this.why(t, baseRps));
      return undefined;
    }
    const calm = t.rps < Math.max(o.minRps, o.exitFactor * baseRps) && t.errorShare < o.errorShare / 2;
    this.calmRun = calm ? this.calmRun + 1 : 0;
    if (this.calmRun >= o.exitSeconds && s - this.enteredSec >= o.minSeconds) {
      return this.switchTo(
        (s + 1) * 1000,
        "normal",
        `unknown traffic back under ${o.exitFactor}× its baseline for ${this.calmRun} s`,
      );
    }
    return undefined;
  }

  private why(t: TrafficSecond, baseRps: number): string {
    const o = this.o;
    if (t.rps >= Math.max(o.minRps, o.rateFactor * baseRps)) {
      return `unknown traffic at ${t.rps}/s, ${(t.rps / baseRps).toFixed(1)}× its baseline, for ${this.hotRun} s`;
    }
    if (t.errorShare >= o.errorShare)
      return `${Math.round(t.errorShare * 100)}% of upstream answers are overload errors`;
    return `unknown traffic at ${(t.rps / baseRps).toFixed(1)}× its baseline from ${t.spread} networks, ${Math.round(t.newShare * 100)}% new clients`;
  }

  private switchTo(at: number, to: ShieldMode, reason: string, t = this.last): ModeChange {
    const from = this.modeValue;
    this.modeValue = to;
    this.hotRun = 0;
    this.calmRun = 0;
    if (to === "attack") this.enteredSec = Math.floor(at / 1000);
    return {
      at,
      from,
      to,
      reason,
      evidence: {
        rps: t.rps,
        baselineRps: round(this.base.rps),
        newShare: round(t.newShare),
        baselineNewShare: round(this.base.newShare),
        spread: t.spread,
        baselineSpread: round(this.base.spread),
        errorShare: round(t.errorShare),
      },
    };
  }

  private settleBaseline(): void {
    const l = this.learning;
    this.learning = [];
    if (l.length === 0) return;
    const median = (f: (t: TrafficSecond) => number) => {
      const v = l.map(f).sort((a, b) => a - b);
      return v[Math.floor((v.length - 1) / 2)] ?? 0;
    };
    this.base = {
      rps: median((t) => t.rps),
      newShare: median((t) => t.newShare),
      spread: median((t) => t.spread),
      errorShare: median((t) => t.errorShare),
    };
  }

  private blend(t: TrafficSecond, w: number): void {
    const b = this.base;
    b.rps += (t.rps - b.rps) * w;
    b.newShare += (t.newShare - b.newShare) * w;
    b.spread += (t.spread - b.spread) * w;
    b.errorShare += (t.errorShare - b.errorShare) * w;
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
