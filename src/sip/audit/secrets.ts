/**
 * When a secret is weak, and how to show one without giving it away.
 *
 * SIP brute-forcers (SIPVicious's svcrack and its descendants) try the extension number itself,
 * numeric ranges and short dictionaries thousands of times a second, so those are what "weak" means
 * here: a common password, the user name or extension (or a secret containing it), digits only, or
 * fewer than MIN_SECRET_LENGTH characters.
 */
import type { AuditSeverity } from "./types.js";

export const MIN_SECRET_LENGTH = 10;

export type Weakness = {
  readonly severity: Extract<AuditSeverity, "critical" | "high">;
  readonly reasons: readonly string[];
};

/** Reads a password list: one per line, `#` comments, compared case-insensitively. */
export function parsePasswordList(text: string): Set<string> {
  const out = new Set<string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    out.add(line.toLowerCase());
  }
  return out;
}

/** `ab****`: a hint to find the secret in the file, never enough to use it. */
export function maskSecret(secret: string): string {
  const shown = Math.min(2, Math.floor(secret.length / 4));
  return secret.slice(0, shown) + "****";
}

/** Why `secret` is weak for an account known by `names`, or undefined when it is not. */
export function secretWeakness(
  secret: string,
  names: readonly string[],
  common: ReadonlySet<string>,
): Weakness | undefined {
  if (secret === "") return { severity: "critical", reasons: ["is empty"] };
  const critical: string[] = [];
  const high: string[] = [];
  const lower = secret.toLowerCase();
  if (common.has(lower)) critical.push("is in the list of common passwords");
  let same = false;
  let contains = false;
  for (const n of names) {
    const name = n.toLowerCase();
    if (name === "") continue;
    if (lower === name) same = true;
    else if (name.length >= 3 && lower.includes(name)) contains = true;
  }
  // The reasons never quote the name: when the secret is the name, quoting it would print the secret.
  if (same) critical.push("is the same as the account name");
  else if (contains) high.push("contains the account name");
  if (/^\d+$/.test(secret)) high.push("is digits only");
  if (secret.length < MIN_SECRET_LENGTH)
    high.push(`is ${secret.length} characters long (fewer than ${MIN_SECRET_LENGTH})`);
  if (critical.length > 0) return { severity: "critical", reasons: [...critical, ...high] };
  if (high.length > 0) return { severity: "high", reasons: high };
  return undefined;
}

/** Severity of a weak secret, lowered when the service that uses it cannot be reached from outside. */
export function weaknessSeverity(
  w: Weakness,
  reach: "anywhere" | "network" | "local" | "disabled",
): AuditSeverity {
  if (reach === "disabled") return "low";
  if (reach === "local") return "medium";
  return w.severity;
}
