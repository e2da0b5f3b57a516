/**
 * What the PBX configuration audit reports. Rules are pure: they take file contents (relative path ->
 * text) and return findings, so the same audit runs on a live /etc, a copy sent by a customer, or a
 * test fixture.
 */

export const AUDIT_SEVERITIES = ["critical", "high", "medium", "low"] as const;
export type AuditSeverity = (typeof AUDIT_SEVERITIES)[number];

/** Stable rule ids: tools and suppressions refer to them. */
export const AUDIT_RULES = [
  "weak-secret",
  "ami-exposed",
  "ari-exposed",
  "event-socket-exposed",
  "guest-calls",
  "unauth-international",
  "international-unrestricted",
  "maintenance-account",
] as const;
export type AuditRuleId = (typeof AUDIT_RULES)[number];

export type AuditFinding = {
  readonly id: AuditRuleId;
  readonly severity: AuditSeverity;
  /** Path relative to the audited directory. */
  readonly file: string;
  /** 1-based line of the setting to change. */
  readonly line: number;
  readonly section?: string;
  /** What is wrong. Secrets appear only masked. */
  readonly message: string;
  /** What to do about it. */
  readonly fix: string;
};

export type AuditReport = {
  readonly findings: readonly AuditFinding[];
  /** Things the audit could not check (a missing #include, an #exec), so a clean report is not over-read. */
  readonly warnings: readonly string[];
};

export type AuditOptions = {
  /** Common passwords, lower-cased (see rules/weak-passwords.txt). */
  readonly weakPasswords: ReadonlySet<string>;
};

/** Relative path -> file contents. */
export type ConfigFiles = ReadonlyMap<string, string>;

const ORDER: Readonly<Record<AuditSeverity, number>> = { critical: 0, high: 1, medium: 2, low: 3 };

/** Findings in a stable order: by file, line, then rule. */
export function sortFindings(findings: readonly AuditFinding[]): AuditFinding[] {
  return [...findings].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.line - b.line ||
      a.id.localeCompare(b.id) ||
      ORDER[a.severity] - ORDER[b.severity] ||
      (a.section ?? "").localeCompare(b.section ?? ""),
  );
}
