/**
 * Findings are what detectors see; decisions are what the policy makes of them.
 * A detector never bans and an action never judges (DESIGN.md).
 */
export type Severity = "warning" | "critical";

/** What a rule asks for when it fires; the policy may soften it (report-only) but never harden it. */
export type Remedy = "alert" | "deny" | "block" | "terminate" | "ban";

export type Finding = {
  readonly rule: string;
  readonly severity: Severity;
  readonly remedy: Remedy;
  /** Event time (epoch ms) at which the rule fired. */
  readonly at: number;
  /** The subject: an account id, a source address, a host. */
  readonly subject: string;
  readonly message: string;
  readonly evidence: Readonly<Record<string, unknown>>;
};
