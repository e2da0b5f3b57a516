import { z } from "zod";
import type { Remedy, Severity } from "../core/findings.js";

/**
 * The call guard's rule catalogue: one entry per rule, with what it is for and its shipped defaults.
 * `policy` rules apply the account's own settings (they deny quietly); `detector` rules look for
 * fraud and raise alerts. Each note names the fraud pattern the rule is tuned for.
 */
export const ruleModes = ["enforce", "report", "off"] as const;
export type RuleMode = (typeof ruleModes)[number];

const mode = z.enum(ruleModes);
const minutes = z.number().int().positive().max(525_600);
const count = z.number().int().positive().max(1_000_000);
const money = z.number().nonnegative().max(1e12);

export const ruleSettingsSchema = z
  .object({
    "account-blocked": z.object({ mode }).strict(),
    "invalid-number": z.object({ mode }).strict(),
    "international-barred": z.object({ mode }).strict(),
    "country-not-allowed": z.object({ mode }).strict(),
    "high-risk-destination": z.object({ mode, remedy: z.enum(["alert", "deny"]) }).strict(),
    "calls-per-second": z.object({ mode }).strict(),
    "calls-per-minute": z.object({ mode }).strict(),
    "concurrent-calls": z.object({ mode }).strict(),
    "destination-burst": z.object({ mode, perMinute: count, perHour: count, blockMinutes: minutes }).strict(),
    "repeated-number": z.object({ mode, count, windowMinutes: minutes }).strict(),
    "sequential-numbers": z
      .object({ mode, distinct: count, windowMinutes: minutes, blockMinutes: minutes })
      .strict(),
    "cost-velocity": z
      .object({ mode, per5Minutes: money, per15Minutes: money, per60Minutes: money, blockMinutes: minutes })
      .strict(),
    "spend-cap": z.object({ mode }).strict(),
    "new-country": z.object({ mode, learningDays: z.number().int().nonnegative().max(3650) }).strict(),
    "off-hours-risk": z
      .object({ mode, calls: count, windowMinutes: minutes, blockMinutes: minutes })
      .strict(),
    "max-duration": z.object({ mode }).strict(),
    "live-cost-cap": z.object({ mode, maxCallCost: money }).strict(),
  })
  .strict();

export type RuleSettings = z.infer<typeof ruleSettingsSchema>;
export type RuleId = keyof RuleSettings;

/** A partial override of the rule settings, as a config file or an account policy gives it. */
export const ruleOverridesSchema = z
  .object(
    Object.fromEntries(Object.entries(ruleSettingsSchema.shape).map(([k, v]) => [k, v.partial().optional()])),
  )
  .strict() as unknown as z.ZodType<RuleOverrides>;
export type RuleOverrides = { [K in RuleId]?: Partial<RuleSettings[K]> | undefined };

export type RuleInfo = {
  readonly kind: "policy" | "detector";
  readonly severity: Severity;
  readonly remedy: Remedy;
  readonly note: string;
};

export const ruleCatalogue: { readonly [K in RuleId]: RuleInfo } = {
  "account-blocked": {
    kind: "policy",
    severity: "warning",
    remedy: "deny",
    note: "The account's international calling is blocked (by a detector or an operator) until the block expires or is lifted.",
  },
  "invalid-number": {
    kind: "policy",
    severity: "warning",
    remedy: "deny",
    note: "The dialled number cannot be read as a telephone number; it is refused rather than guessed at.",
  },
  "international-barred": {
    kind: "policy",
    severity: "warning",
    remedy: "deny",
    note: "International calling is off for this account: the carriers' first advice against toll fraud.",
  },
  "country-not-allowed": {
    kind: "policy",
    severity: "warning",
    remedy: "deny",
    note: "The destination country is not on the account's allow-list.",
  },
  "high-risk-destination": {
    kind: "detector",
    severity: "warning",
    remedy: "alert",
    note: "Destination on the shipped high-risk list (revenue-share ranges, satellite); alerts by default, can deny.",
  },
  "calls-per-second": {
    kind: "policy",
    severity: "warning",
    remedy: "deny",
    note: "Cap on call attempts per second: fast pumping from a hacked PBX.",
  },
  "calls-per-minute": {
    kind: "policy",
    severity: "warning",
    remedy: "deny",
    note: "Cap on call attempts per minute: fast pumping from a hacked PBX.",
  },
  "concurrent-calls": {
    kind: "policy",
    severity: "warning",
    remedy: "deny",
    note: "Cap on calls in progress: many parallel calls to one premium range (fast pumping).",
  },
  "destination-burst": {
    kind: "detector",
    severity: "critical",
    remedy: "block",
    note: "Many international calls to one country code in a minute or an hour: fast pumping and the Okinawa pattern.",
  },
  "repeated-number": {
    kind: "detector",
    severity: "warning",
    remedy: "alert",
    note: "The same international number called again and again: revenue-share numbers answered by a machine.",
  },
  "sequential-numbers": {
    kind: "detector",
    severity: "critical",
    remedy: "block",
    note: "International numbers dialled in sequence (+23276000001, …02): a fraudster working through a rented range.",
  },
  "cost-velocity": {
    kind: "detector",
    severity: "critical",
    remedy: "block",
    note: "Estimated spend (price × minutes) over 5, 15 and 60 minutes: weighs every call by what it costs. The 60-minute limit (6,000) is what stops a hacked registration calling premium numbers in business hours; 5 and 15 minutes catch fast pumping.",
  },
  "spend-cap": {
    kind: "policy",
    severity: "warning",
    remedy: "deny",
    note: "The account's caps on estimated spend per hour, day and month.",
  },
  "new-country": {
    kind: "detector",
    severity: "warning",
    remedy: "alert",
    note: "First call ever from this account to a country, once the account has a history (learningDays): a hacked account calls places the company never did (country hopping).",
  },
  "off-hours-risk": {
    kind: "detector",
    severity: "critical",
    remedy: "block",
    note: "Calls to high-risk destinations outside business hours or on holidays: the Okinawa pattern and weekend or holiday attacks; its day-long window also catches slow drip (a few long calls a night).",
  },
  "max-duration": {
    kind: "detector",
    severity: "critical",
    remedy: "terminate",
    note: "A live international call passed the account's longest allowed duration: ended while still up (slow drip).",
  },
  "live-cost-cap": {
    kind: "detector",
    severity: "critical",
    remedy: "terminate",
    note: "A live call's estimated cost passed the cap: ended while still up, not at hang-up (each long call of a slow drip is cut here).",
  },
};

/** Shipped defaults, tuned for a small office; operators override per deployment and per account. */
export const defaultRuleSettings: RuleSettings = {
  "account-blocked": { mode: "enforce" },
  "invalid-number": { mode: "enforce" },
  "international-barred": { mode: "enforce" },
  "country-not-allowed": { mode: "enforce" },
  "high-risk-destination": { mode: "enforce", remedy: "alert" },
  "calls-per-second": { mode: "enforce" },
  "calls-per-minute": { mode: "enforce" },
  "concurrent-calls": { mode: "enforce" },
  "destination-burst": { mode: "enforce", perMinute: 8, perHour: 40, blockMinutes: 1440 },
  "repeated-number": { mode: "enforce", count: 6, windowMinutes: 60 },
  "sequential-numbers": { mode: "enforce", distinct: 5, windowMinutes: 60, blockMinutes: 1440 },
  "cost-velocity": {
    mode: "enforce",
    per5Minutes: 3000,
    per15Minutes: 4500,
    per60Minutes: 6000,
    blockMinutes: 1440,
  },
  "spend-cap": { mode: "enforce" },
  "new-country": { mode: "enforce", learningDays: 7 },
  "off-hours-risk": { mode: "enforce", calls: 3, windowMinutes: 1440, blockMinutes: 1440 },
  "max-duration": { mode: "enforce" },
  "live-cost-cap": { mode: "enforce", maxCallCost: 5000 },
};

/** Layers overrides onto settings, rule by rule; later layers win. */
export function mergeRuleSettings(
  base: RuleSettings,
  ...layers: (RuleOverrides | undefined)[]
): RuleSettings {
  const out = { ...base } as Record<string, unknown>;
  for (const layer of layers) {
    if (!layer) continue;
    for (const [id, patch] of Object.entries(layer)) {
      if (patch) out[id] = { ...(out[id] as object), ...patch };
    }
  }
  return out as RuleSettings;
}

export const ruleIds = Object.keys(ruleCatalogue) as RuleId[];
