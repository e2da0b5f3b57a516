import { z } from "zod";
import { isValidTimeZone } from "../core/local-time.js";
import type { DialContext } from "./number-info.js";
import {
  defaultRuleSettings,
  mergeRuleSettings,
  type RuleOverrides,
  type RuleSettings,
  ruleOverridesSchema,
} from "./rules.js";

/**
 * An account's policy: the same schema in the YAML accounts file and in `PUT /v1/accounts/{id}`.
 * Everything but the id is optional; what is left out comes from the deployment's defaults.
 */
const weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, "a time as HH:MM, 00:00 to 24:00");
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date as YYYY-MM-DD");
const countryCode = z
  .string()
  .regex(/^[A-Za-z]{2}$/, "an ISO 3166 two-letter country code such as JP")
  .transform((s) => s.toUpperCase());
const cap = z.number().nonnegative().max(1e12);

export const accountIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.@:+-]+$/, "letters, digits and _ . @ : + - only");

export const accountPolicySchema = z
  .object({
    id: accountIdSchema,
    name: z.string().max(200).optional(),
    country: countryCode.optional(),
    timeZone: z.string().refine(isValidTimeZone, "an IANA time zone name such as Asia/Tokyo").optional(),
    outsideLinePrefix: z
      .string()
      .regex(/^\d{1,2}$/, "one or two digits such as 0")
      .optional(),
    businessHours: z
      .object({
        days: z.array(z.enum(weekdays)).max(7),
        start: hhmm,
        end: hhmm,
      })
      .strict()
      .optional(),
    holidays: z
      .object({
        calendar: z.enum(["jp", "none"]).optional(),
        dates: z.array(isoDate).max(1000).optional(),
      })
      .strict()
      .optional(),
    international: z
      .object({
        mode: z.enum(["off", "allow-list", "all"]),
        countries: z.array(countryCode).max(300).optional(),
      })
      .strict()
      .optional(),
    caps: z
      .object({
        callsPerSecond: cap,
        callsPerMinute: cap,
        concurrentCalls: cap,
        spendPerHour: cap,
        spendPerDay: cap,
        spendPerMonth: cap,
        maxInternationalCallSeconds: cap,
      })
      .partial()
      .strict()
      .optional(),
    rules: ruleOverridesSchema.optional(),
  })
  .strict();

export type AccountPolicy = z.infer<typeof accountPolicySchema>;

export type Caps = {
  readonly callsPerSecond: number;
  readonly callsPerMinute: number;
  readonly concurrentCalls: number;
  readonly spendPerHour: number;
  readonly spendPerDay: number;
  readonly spendPerMonth: number;
  readonly maxInternationalCallSeconds: number;
};

const mergeCaps = (base: Caps, over: AccountPolicy["caps"]): Caps => {
  const out: Record<string, number> = { ...base };
  for (const [k, v] of Object.entries(over ?? {})) if (v !== undefined) out[k] = v;
  return out as Caps;
};

/** Deployment-wide defaults for what an account policy leaves out. */
export type PolicyDefaults = {
  readonly country: string;
  readonly timeZone: string;
  readonly businessHours: { days: (typeof weekdays)[number][]; start: string; end: string };
  readonly holidayCalendar: "jp" | "none";
  readonly caps: Caps;
  readonly rules: RuleSettings;
  /** The policy for a number that the switch sends with an account Mamori does not know. */
  readonly unknownAccount: { international: "off" | "all" };
};

export const shippedDefaults: PolicyDefaults = {
  country: "JP",
  timeZone: "Asia/Tokyo",
  businessHours: { days: ["mon", "tue", "wed", "thu", "fri"], start: "08:00", end: "20:00" },
  holidayCalendar: "jp",
  caps: {
    callsPerSecond: 5,
    callsPerMinute: 60,
    concurrentCalls: 20,
    spendPerHour: 20_000,
    spendPerDay: 60_000,
    spendPerMonth: 600_000,
    maxInternationalCallSeconds: 7200,
  },
  rules: defaultRuleSettings,
  unknownAccount: { international: "off" },
};

/** A policy with every default applied, precomputed once so that authorize() does no merging. */
export type ResolvedPolicy = {
  readonly id: string;
  readonly known: boolean;
  readonly country: string;
  readonly timeZone: string;
  readonly outsideLinePrefix: string | undefined;
  /** How this account's users dial, as the numbering code wants it (built once). */
  readonly dial: DialContext;
  /** Bit i set when weekday i (0 = Sunday) is a business day. */
  readonly businessDays: number;
  readonly businessStart: number;
  readonly businessEnd: number;
  readonly holidayCalendar: "jp" | "none";
  readonly holidayDates: ReadonlySet<string>;
  readonly international: "off" | "allow-list" | "all";
  readonly allowedCountries: ReadonlySet<string>;
  readonly caps: Caps;
  readonly rules: RuleSettings;
};

const toMinutes = (s: string): number => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));

export function resolvePolicy(
  policy: AccountPolicy | undefined,
  defaults: PolicyDefaults,
  accountId: string,
): ResolvedPolicy {
  const hours = policy?.businessHours ?? defaults.businessHours;
  let days = 0;
  for (const d of hours.days) days |= 1 << weekdays.indexOf(d);
  const rules: RuleSettings = mergeRuleSettings(defaults.rules, policy?.rules as RuleOverrides | undefined);
  return {
    id: accountId,
    known: policy !== undefined,
    country: policy?.country ?? defaults.country,
    timeZone: policy?.timeZone ?? defaults.timeZone,
    outsideLinePrefix: policy?.outsideLinePrefix,
    dial:
      policy?.outsideLinePrefix === undefined
        ? { country: policy?.country ?? defaults.country }
        : { country: policy?.country ?? defaults.country, outsideLinePrefix: policy.outsideLinePrefix },
    businessDays: days,
    businessStart: toMinutes(hours.start),
    businessEnd: toMinutes(hours.end),
    holidayCalendar: policy?.holidays?.calendar ?? defaults.holidayCalendar,
    holidayDates: new Set(policy?.holidays?.dates ?? []),
    international: policy ? (policy.international?.mode ?? "all") : defaults.unknownAccount.international,
    allowedCountries: new Set(policy?.international?.countries ?? []),
    caps: mergeCaps(defaults.caps, policy?.caps),
    rules,
  };
}
