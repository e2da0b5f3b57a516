import type { CidrSet } from "../core/cidr.js";
import type { BanBook } from "./ban-book.js";
import { MINUTE, pruneMap } from "./detectors/common.js";
import { pbxRuleCatalogue } from "./rule-catalogue.js";
import type { PbxGuardSettings, PbxRuleId } from "./settings.js";
import type { AccountFlag, BanRequest, PbxDecision, PbxFinding, Signal } from "./types.js";

export type ResolverStats = {
  /** Bans not requested because the address is trusted. */
  trusted: number;
  /** Findings recorded as report-only. */
  reported: number;
  /** Alerts held back by suppression. */
  suppressed: number;
  /** Ban signals for an address already banned. */
  alreadyBanned: number;
};

/**
 * The PBX guard's policy: turns what the detectors concluded into findings, ban requests, account
 * flags and block requests. Here the rule's mode applies (report-only records, enforce acts), trusted
 * addresses are spared, the ban ladder is climbed, and alerts are suppressed to one per rule and
 * subject within the window (a ban or a block is always reported: there is one per subject anyway).
 */
export class SignalResolver {
  private readonly lastAlert = new Map<string, number>();
  private readonly suppressMs: number;

  constructor(
    private readonly settings: PbxGuardSettings,
    private readonly trusted: CidrSet,
    private readonly bans: BanBook,
    private readonly stats: ResolverStats,
  ) {
    this.suppressMs = settings.alertSuppressMinutes * MINUTE;
  }

  /** Forgets suppression older than the window. */
  prune(now: number): void {
    pruneMap(this.lastAlert, (t) => now - t > this.suppressMs);
  }

  resolve(sig: Signal, findings: PbxFinding[], bans: BanRequest[], flags: AccountFlag[]): void {
    const info = pbxRuleCatalogue[sig.rule];
    const mode = this.settings.rules[sig.rule].mode;
    if (mode === "off") return;
    if (sig.type === "ban") {
      if (this.trusted.has(sig.address)) {
        this.stats.trusted++;
        const message = `would have banned trusted address ${sig.address}: ${sig.message}`;
        this.alert(findings, sig.rule, sig.address, sig.at, "trusted", message, sig.evidence, "warning");
        return;
      }
      if (mode === "report") {
        this.alert(findings, sig.rule, sig.address, sig.at, "report", sig.message, sig.evidence);
        return;
      }
      if (this.bans.inForce(sig.address, sig.at)) {
        this.stats.alreadyBanned++;
        return;
      }
      const { offence, durationMs } = this.bans.record(sig.address, sig.at, sig.rule);
      const evidence = { ...sig.evidence, offence, banMinutes: Math.round(durationMs / MINUTE) };
      bans.push({
        address: sig.address,
        at: sig.at,
        rule: sig.rule,
        reason: sig.message,
        severity: info.severity,
        evidence,
        durationMs,
        offence,
      });
      // A ban is always reported: one per address while it lasts, so there is nothing to suppress.
      this.lastAlert.set(key(sig.rule, sig.address), sig.at);
      findings.push(this.finding(sig.rule, sig.address, sig.at, "ban", sig.message, evidence));
      return;
    }
    if (sig.type === "flag") {
      if (mode === "report") {
        this.alert(findings, sig.rule, sig.account, sig.at, "report", sig.message, sig.evidence);
        return;
      }
      flags.push({
        type: sig.flag,
        account: sig.account,
        at: sig.at,
        rule: sig.rule,
        severity: info.severity,
        reason: sig.message,
        evidence: sig.evidence,
      });
      this.alert(findings, sig.rule, sig.account, sig.at, "flag", sig.message, sig.evidence);
      return;
    }
    if (mode === "report") {
      this.alert(findings, sig.rule, sig.callAccount, sig.at, "report", sig.message, sig.evidence);
      return;
    }
    const blockAccount = {
      account: sig.callAccount,
      reason: sig.message,
      evidence: sig.evidence,
      durationMs: this.settings.rules["pbx-compromise"].blockMinutes * MINUTE,
    };
    this.lastAlert.set(key(sig.rule, sig.callAccount), sig.at);
    findings.push({
      ...this.finding(sig.rule, sig.callAccount, sig.at, "block", sig.message, sig.evidence),
      blockAccount,
    });
    flags.push({
      type: "compromised",
      account: sig.sipAccount,
      at: sig.at,
      rule: sig.rule,
      severity: info.severity,
      reason: sig.message,
      evidence: sig.evidence,
    });
  }

  /** A finding unless one for the same rule and subject went out within the suppression window. */
  private alert(
    findings: PbxFinding[],
    rule: PbxRuleId,
    subject: string,
    at: number,
    decision: PbxDecision,
    message: string,
    evidence: Readonly<Record<string, unknown>>,
    severity = pbxRuleCatalogue[rule].severity,
  ): void {
    const k = key(rule, subject);
    const last = this.lastAlert.get(k);
    if (last !== undefined && at >= last && at - last < this.suppressMs) {
      this.stats.suppressed++;
      return;
    }
    this.lastAlert.set(k, at);
    if (decision === "report") this.stats.reported++;
    findings.push({ ...this.finding(rule, subject, at, decision, message, evidence), severity });
  }

  private finding(
    rule: PbxRuleId,
    subject: string,
    at: number,
    decision: PbxDecision,
    message: string,
    evidence: Readonly<Record<string, unknown>>,
  ): PbxFinding {
    const info = pbxRuleCatalogue[rule];
    return { rule, severity: info.severity, remedy: info.remedy, at, subject, message, evidence, decision };
  }
}

function key(rule: string, subject: string): string {
  return rule + "\u0000" + subject;
}
