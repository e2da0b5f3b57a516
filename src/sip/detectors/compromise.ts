import type { BucketWindow } from "../../core/windows.js";
import type { PbxGuardSettings } from "../settings.js";
import type { Sink } from "../types.js";
import { countIn, MINUTE, pruneMap, putBounded, slidingCount } from "./common.js";

type Fails = { w: BucketWindow; lastAt: number };

/** An account whose next international call completes the chain. Keyed by the call guard's account. */
type Watch = {
  sipAccount: string;
  armedAt: number;
  until: number;
  reasons: string[];
  evidence: Record<string, unknown>;
};

/**
 * The toll-fraud chain. A password is guessed (a successful login right after a run of failures from
 * the same address or against the same account) or used from a new place; minutes or hours later the
 * account calls abroad. Either half alone is common enough; together they are how a hacked PBX starts
 * to cost money, and the answer is to stop the account's international calls at once.
 *
 * The login half arms a watch on the account; `call` with an international call inside the watch
 * fires `pbx-compromise` once and disarms it (the call guard's block takes over from there).
 */
export class Compromise {
  private readonly bySource = new Map<string, Fails>();
  private readonly byAccount = new Map<string, Fails>();
  private readonly watches = new Map<string, Watch>();
  private readonly lookbackMs: number;

  constructor(private readonly settings: PbxGuardSettings) {
    this.lookbackMs = settings.rules["suspicious-login"].lookbackMinutes * MINUTE;
  }

  failure(address: string, account: string | undefined, at: number): void {
    if (this.settings.rules["suspicious-login"].mode === "off") return;
    this.count(this.bySource, address, at, this.settings.limits.maxSources);
    if (account !== undefined) this.count(this.byAccount, account, at, this.settings.limits.maxAccounts);
  }

  /** A successful login; true when it followed enough failures to be suspicious (a flag is raised). */
  success(address: string, account: string, at: number, sink: Sink): boolean {
    const rule = this.settings.rules["suspicious-login"];
    if (rule.mode === "off") return false;
    const src = this.bySource.get(address);
    const acct = this.byAccount.get(account);
    const fromAddress = src ? countIn(src.w, at) : 0;
    const forAccount = acct ? countIn(acct.w, at) : 0;
    if (fromAddress < rule.failuresBefore && forAccount < rule.failuresBefore) return false;
    // Start over, so that the phone's next re-registration does not raise the same flag again.
    this.bySource.delete(address);
    this.byAccount.delete(account);
    const why =
      fromAddress >= rule.failuresBefore
        ? `${fromAddress} failed logins from ${address}`
        : `${forAccount} failed logins to ${account}`;
    sink.signals.push({
      type: "flag",
      rule: "suspicious-login",
      flag: "suspicious-login",
      account,
      at,
      message: `successful login to ${account} from ${address} after ${why} within ${rule.lookbackMinutes} minutes`,
      evidence: {
        address,
        failuresFromAddress: fromAddress,
        failuresForAccount: forAccount,
        lookbackMinutes: rule.lookbackMinutes,
      },
    });
    return true;
  }

  /** Watches the account's calls for `watchMinutes` from `at`. */
  arm(
    sipAccount: string,
    callAccount: string,
    at: number,
    reason: string,
    evidence: Record<string, unknown>,
  ): void {
    const rule = this.settings.rules["pbx-compromise"];
    if (rule.mode === "off") return;
    const until = at + rule.watchMinutes * MINUTE;
    const w = this.watches.get(callAccount);
    if (w && w.until >= at) {
      if (!w.reasons.includes(reason)) w.reasons.push(reason);
      w.until = Math.max(w.until, until);
      Object.assign(w.evidence, evidence);
      return;
    }
    putBounded(
      this.watches,
      callAccount,
      { sipAccount, armedAt: at, until, reasons: [reason], evidence: { ...evidence } },
      this.settings.limits.maxAccounts,
    );
  }

  armed(callAccount: string, at: number): boolean {
    const w = this.watches.get(callAccount);
    return w !== undefined && at >= w.armedAt && at <= w.until;
  }

  call(callAccount: string, at: number, international: boolean, sink: Sink): void {
    if (!international) return;
    const w = this.watches.get(callAccount);
    if (!w || at < w.armedAt) return;
    this.watches.delete(callAccount);
    if (at > w.until) return;
    const minutes = Math.round((at - w.armedAt) / MINUTE);
    sink.signals.push({
      type: "block",
      rule: "pbx-compromise",
      sipAccount: w.sipAccount,
      callAccount,
      at,
      message: `international call from ${callAccount} ${minutes} minutes after ${w.reasons.join(" and ")} on ${w.sipAccount}: the PBX account looks compromised`,
      evidence: {
        ...w.evidence,
        sipAccount: w.sipAccount,
        reasons: [...w.reasons],
        armedAt: new Date(w.armedAt).toISOString(),
        callAt: new Date(at).toISOString(),
      },
    });
  }

  prune(now: number): void {
    pruneMap(this.bySource, (f) => now - f.lastAt > this.lookbackMs);
    pruneMap(this.byAccount, (f) => now - f.lastAt > this.lookbackMs);
    pruneMap(this.watches, (w) => w.until < now);
  }

  private count(map: Map<string, Fails>, key: string, at: number, max: number): void {
    let f = map.get(key);
    if (!f) {
      f = { w: slidingCount(this.lookbackMs), lastAt: at };
      putBounded(map, key, f, max);
    }
    f.w.add(at, 1);
    if (at > f.lastAt) f.lastAt = at;
  }
}
