import type { Finding, Severity } from "../core/findings.js";
import type { NumberInfo } from "./number-info.js";

/** What the call guard tells the switch, and what it asks the rest of Mamori to record and do. */
export type Reason = { readonly rule: string; readonly message: string };

export type Block = {
  readonly id: string;
  readonly account: string;
  /** What is blocked; only international calling today. */
  readonly scope: "international";
  readonly createdAt: number;
  /** Epoch ms when the block ends by itself; null = until an operator lifts it. */
  readonly until: number | null;
  readonly rule: string;
  readonly reason: string;
  readonly evidence: Readonly<Record<string, unknown>>;
  /** "engine" or the id of the API key that made it. */
  readonly createdBy: string;
};

export type Alert = {
  readonly at: number;
  readonly rule: string;
  readonly severity: Severity;
  readonly account: string;
  readonly callId: string | undefined;
  /** What was done about it: the call allowed or denied, the account blocked, the call ended, or nothing (report-only). */
  readonly decision: "allow" | "deny" | "block" | "terminate" | "report";
  readonly message: string;
  readonly evidence: Readonly<Record<string, unknown>>;
};

export type Termination = {
  readonly at: number;
  readonly callId: string;
  readonly account: string;
  readonly rule: string;
  readonly message: string;
};

export type Verdict = {
  readonly callId: string;
  readonly account: string;
  readonly at: number;
  readonly decision: "allow" | "deny";
  /** Why the call was denied (empty when allowed). */
  readonly reasons: readonly Reason[];
  /** Rules in report-only mode that would have denied or blocked. */
  readonly reportOnly: readonly Reason[];
  readonly findings: readonly Finding[];
  readonly number: NumberInfo | undefined;
  /** Estimated cost of the call at authorize time (tariff × assumed minutes). */
  readonly estimatedCost: number;
  readonly block: Block | undefined;
  readonly alerts: readonly Alert[];
  /** A country this account called for the first time (to remember). */
  readonly learnedCountry: string | undefined;
  /** True when this answers a repeated request for a call already decided. */
  readonly repeat: boolean;
};

/** What answer, hang-up and the clock tick produce. */
export type Outcome = {
  readonly alerts: readonly Alert[];
  readonly terminations: readonly Termination[];
  /** Cost of a call that ended, for the record. */
  readonly ended?: { callId: string; account: string; billsec: number; cost: number } | undefined;
};

export const emptyOutcome: Outcome = { alerts: [], terminations: [] };
