import type { Finding, Remedy } from "../core/findings.js";
import type { RuleId, RuleSettings } from "./rules.js";
import type { Reason } from "./verdict.js";

/**
 * The policy: turns findings into a decision. A rule in report-only mode is recorded as what it would
 * have done; an enforced rule denies, blocks or ends the call as its remedy says.
 */
export type Resolution = {
  readonly deny: Reason[];
  readonly reportOnly: Reason[];
  /** The enforced finding that asks for a block, if any (the first one wins). */
  readonly block: Finding | undefined;
};

export function effectiveRemedy(f: Finding, rules: RuleSettings): Remedy {
  if (f.rule === "high-risk-destination") return rules["high-risk-destination"].remedy;
  return f.remedy;
}

export function resolveFindings(findings: readonly Finding[], rules: RuleSettings): Resolution {
  const deny: Reason[] = [];
  const reportOnly: Reason[] = [];
  let block: Finding | undefined;
  for (const f of findings) {
    const remedy = effectiveRemedy(f, rules);
    if (remedy === "alert") continue;
    const mode = rules[f.rule as RuleId]?.mode ?? "enforce";
    const reason = { rule: f.rule, message: f.message };
    if (mode === "report") reportOnly.push(reason);
    else if (mode === "enforce" && (remedy === "deny" || remedy === "block")) {
      deny.push(reason);
      if (remedy === "block" && !block) block = f;
    }
  }
  return { deny, reportOnly, block };
}
