import type { Finding, Severity } from "../core/findings.js";
import type { PbxRuleId } from "./settings.js";

/**
 * What the PBX guard asks the rest of Mamori to record and do. The guard decides; the nftables,
 * Kamailio and webhook actions carry the decisions out, and the store keeps them.
 */

/** Drop everything from one address for a while. `address` is canonical (see core/sip-address). */
export type BanRequest = {
  readonly address: string;
  /** Event time of the offence (epoch ms); the ban runs from here for `durationMs`. */
  readonly at: number;
  readonly rule: PbxRuleId;
  readonly reason: string;
  readonly severity: Severity;
  readonly evidence: Readonly<Record<string, unknown>>;
  readonly durationMs: number;
  /** Which offence of this address this is (1 for the first), the step on the ban ladder. */
  readonly offence: number;
};

/** Ask the call guard to block an account's international calling. */
export type BlockAccountRequest = {
  /** The call guard's account (after `callAccountOf`). */
  readonly account: string;
  readonly reason: string;
  readonly evidence: Readonly<Record<string, unknown>>;
  readonly durationMs: number;
};

/**
 * What became of a finding: an address banned, an account block requested, an alert or a flag only,
 * recorded as report-only, or not banned because the address is trusted.
 */
export type PbxDecision = "ban" | "block" | "alert" | "flag" | "report" | "trusted";

export type PbxFinding = Finding & {
  readonly rule: PbxRuleId;
  readonly decision: PbxDecision;
  /** Present on an enforced `pbx-compromise`: what the composition root turns into a call-guard block. */
  readonly blockAccount?: BlockAccountRequest | undefined;
};

/**
 * Something learned about an account, for the console and the store:
 * - targeted: a password-guessing campaign against the account (slow or distributed);
 * - suspicious-login: a successful login right after failures;
 * - new-network / new-country: a login from a place never seen for the account;
 * - compromised: the chain completed (suspicious login, then an international call).
 */
export const ACCOUNT_FLAG_TYPES = [
  "targeted",
  "suspicious-login",
  "new-network",
  "new-country",
  "compromised",
] as const;
export type AccountFlagType = (typeof ACCOUNT_FLAG_TYPES)[number];

export type AccountFlag = {
  readonly type: AccountFlagType;
  /** The SIP account (extension, endpoint, user) the PBX named. */
  readonly account: string;
  readonly at: number;
  readonly rule: PbxRuleId;
  readonly severity: Severity;
  readonly reason: string;
  readonly evidence: Readonly<Record<string, unknown>>;
};

/** A network or country now known for an account: the store keeps it and seeds it back at start. */
export type LearnedPlace = {
  readonly account: string;
  readonly at: number;
  readonly network?: string | undefined;
  readonly country?: string | undefined;
};

/** What `ingest`, `noteCall` and `tick` return. */
export type PbxOutcome = {
  readonly findings: readonly PbxFinding[];
  readonly bans: readonly BanRequest[];
  readonly accountFlags: readonly AccountFlag[];
  readonly learned: readonly LearnedPlace[];
};

export const emptyPbxOutcome: PbxOutcome = Object.freeze({
  findings: Object.freeze([]),
  bans: Object.freeze([]),
  accountFlags: Object.freeze([]),
  learned: Object.freeze([]),
});

/** A ban in force, as the guard remembers it (its own, or one applied from the store or an operator). */
export type ActiveBan = { readonly address: string; readonly until: number; readonly rule: string };

// ---- between the detectors and the guard -----------------------------------------------------------

/** What a detector concludes; the guard applies modes, trust, the ban ladder and alert suppression. */
export type Signal =
  | {
      readonly type: "ban";
      readonly rule: PbxRuleId;
      readonly address: string;
      readonly at: number;
      readonly message: string;
      readonly evidence: Readonly<Record<string, unknown>>;
    }
  | {
      readonly type: "flag";
      readonly rule: PbxRuleId;
      readonly flag: AccountFlagType;
      readonly account: string;
      readonly at: number;
      readonly message: string;
      readonly evidence: Readonly<Record<string, unknown>>;
    }
  | {
      readonly type: "block";
      readonly rule: PbxRuleId;
      readonly sipAccount: string;
      readonly callAccount: string;
      readonly at: number;
      readonly message: string;
      readonly evidence: Readonly<Record<string, unknown>>;
    };

/** Where detectors put their conclusions during one call into the guard; emptied by the guard. */
export type Sink = { signals: Signal[]; learned: LearnedPlace[] };
