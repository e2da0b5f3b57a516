import type { BucketWindow } from "../../core/windows.js";
import type { PbxGuardSettings } from "../settings.js";
import type { Sink } from "../types.js";
import { countIn, HOUR, pruneMap, putBounded, slidingCount } from "./common.js";

type Contributor = { failures: number; lastAt: number; succeeded: boolean; banned: boolean };

type State = {
  fails: BucketWindow;
  contributors: Map<string, Contributor>;
  /** When the campaign against this account was recognised; new contributors are banned until the window passes. */
  firedAt: number | undefined;
  lastAt: number;
};

// Enough addresses to ban a botnet's share in one go; past this, new addresses are still counted.
const MAX_CONTRIBUTORS = 1024;

/**
 * Guessing against one account, from wherever it comes: slow guessing (one address, one try every few
 * minutes for hours) and distributed guessing (a botnet, a few tries per address). Either way the
 * per-address rule never fires, but the account sees them all.
 *
 * When the campaign is recognised, the addresses that failed at least `contributorFailures` times and
 * never logged in to the account are banned, and while the window lasts every new one that reaches
 * that count is banned too. An address that logged in successfully is left alone: it is the phone.
 */
export class AccountGuessing {
  private readonly states = new Map<string, State>();
  private readonly windowMs: number;

  constructor(private readonly settings: PbxGuardSettings) {
    this.windowMs = settings.rules["account-guessing"].windowHours * HOUR;
  }

  failure(account: string, address: string, at: number, established: boolean, sink: Sink): void {
    const rule = this.settings.rules["account-guessing"];
    if (rule.mode === "off") return;
    let s = this.states.get(account);
    if (!s) {
      s = { fails: slidingCount(this.windowMs), contributors: new Map(), firedAt: undefined, lastAt: at };
      putBounded(this.states, account, s, this.settings.limits.maxAccounts);
    }
    s.fails.add(at, 1);
    if (at > s.lastAt) s.lastAt = at;
    let c = s.contributors.get(address);
    if (!c) {
      if (s.contributors.size >= MAX_CONTRIBUTORS) this.forgetOld(s, at);
      c = { failures: 0, lastAt: at, succeeded: false, banned: false };
      if (s.contributors.size < MAX_CONTRIBUTORS) s.contributors.set(address, c);
    }
    if (at - c.lastAt > this.windowMs) c.failures = 0;
    c.failures++;
    if (at > c.lastAt) c.lastAt = at;

    if (s.firedAt !== undefined && at - s.firedAt <= this.windowMs) {
      if (this.bannable(c, established)) this.ban(account, address, c, at, "joined", sink);
      return;
    }
    const total = countIn(s.fails, at);
    const sources = this.activeSources(s, at);
    if (total < rule.failures && sources < rule.distinctSources) return;
    s.firedAt = at;
    const kind = sources >= rule.distinctSources ? "distributed" : "slow";
    sink.signals.push({
      type: "flag",
      rule: "account-guessing",
      flag: "targeted",
      account,
      at,
      message:
        kind === "distributed"
          ? `password guessing against ${account} from ${sources} addresses (${total} failures within ${rule.windowHours} h)`
          : `${total} failed logins to ${account} within ${rule.windowHours} h`,
      evidence: { kind, failures: total, addresses: sources, windowHours: rule.windowHours },
    });
    for (const [addr, other] of s.contributors) {
      if (at - other.lastAt > this.windowMs) continue;
      // The current address is judged with its own `established`; others by their record here.
      if (addr === address ? this.bannable(other, established) : this.bannable(other, false)) {
        this.ban(account, addr, other, at, kind, sink);
      }
    }
  }

  /** A login that worked: that address is the account's own phone, not a guesser. */
  success(account: string, address: string): void {
    const c = this.states.get(account)?.contributors.get(address);
    if (c) c.succeeded = true;
  }

  /** Whether the account is under a recognised campaign right now (for evidence elsewhere). */
  targeted(account: string, at: number): boolean {
    const f = this.states.get(account)?.firedAt;
    return f !== undefined && at - f <= this.windowMs;
  }

  prune(now: number): void {
    pruneMap(this.states, (s) => now - s.lastAt > this.windowMs);
    for (const s of this.states.values()) this.forgetOld(s, now);
  }

  private bannable(c: Contributor, established: boolean): boolean {
    const min = this.settings.rules["account-guessing"].contributorFailures;
    return !c.banned && !c.succeeded && !established && c.failures >= min;
  }

  private ban(account: string, address: string, c: Contributor, at: number, kind: string, sink: Sink): void {
    c.banned = true;
    sink.signals.push({
      type: "ban",
      rule: "account-guessing",
      address,
      at,
      message: `${address} is taking part in password guessing against ${account}`,
      evidence: { account, kind, failuresFromAddress: c.failures },
    });
  }

  private activeSources(s: State, at: number): number {
    let n = 0;
    for (const c of s.contributors.values()) if (at - c.lastAt <= this.windowMs && !c.succeeded) n++;
    return n;
  }

  private forgetOld(s: State, at: number): void {
    pruneMap(s.contributors, (c) => at - c.lastAt > this.windowMs);
  }
}
