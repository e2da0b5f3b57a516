import {
  type CountryCode,
  getCountryCallingCode,
  isSupportedCountry,
  Metadata,
  type PhoneNumber,
  parsePhoneNumberFromString,
} from "libphonenumber-js/max";
import metadata from "libphonenumber-js/metadata.max.json";
import type { NumberType } from "./number-info.js";

/*
 * What the numbering metadata says about dialling from a country and about a number, shaped for the
 * authorize hot path. The library answers in 2-60 µs (it runs a dozen regular expressions per number);
 * a live switch sends the same numbers again and again, so dial plans, national readings and verdicts
 * are memoised. Each depends only on its key, so the caches are invisible to callers. A full cache is
 * emptied rather than kept in LRU order: one burst of misses, and no bookkeeping on the hits.
 */

export const MAX_E164_DIGITS = 15;
const PLAN_CACHE_SIZE = 1024;
const READING_CACHE_SIZE = 4096;
const VERDICT_CACHE_SIZE = 8192;

/** Carrier-selection codes dialled before the international prefix, by account country. */
const carrierSelection: Readonly<Record<string, string>> = {
  // KDDI 001, NTT Communications 0033, SoftBank 0041 / 0046 / 0061.
  JP: "00(?:1|33|41|46|61)",
};

/**
 * Regions that share a country's domestic numbering and pricing although the metadata lists them
 * apart: a call between them does not leave the country. Everything else under a shared calling code
 * (Canada and Jamaica for a US account, Guernsey for a UK one) is abroad.
 */
const homeGroups: readonly (readonly string[])[] = [
  ["US", "PR", "VI", "GU", "AS", "MP"],
  ["FI", "AX"],
  ["NO", "SJ"],
  ["AU", "CC", "CX"],
];

export type DialPlan = {
  /** Undefined when the account's country is unknown to the numbering metadata. */
  readonly country: CountryCode | undefined;
  /** The account's country and the regions that count as home with it. */
  readonly home: readonly string[];
  readonly idd: RegExp;
  /** Trunk (national) prefix, "0" in Japan, "1" in NANP; undefined where there is none. */
  readonly trunkPrefix: string | undefined;
  /** NANP numbers are dialled with or without the trunk prefix 1. */
  readonly trunkPrefixOptional: boolean;
  /** Memoised national readings by dial string; null where the library found no number. */
  readonly readings: Map<string, NationalReading | null>;
};

export type Verdict = {
  readonly country: string | undefined;
  readonly type: NumberType;
  readonly valid: boolean;
};

export function iddLength(dial: string, plan: DialPlan): number {
  const match = plan.idd.exec(dial);
  return match === null ? 0 : match[0].length;
}

/** A dial string read as a national number of the plan's country. */
export type NationalReading = { readonly e164: string; readonly possible: boolean };

/** Reads a national dial string with the library's rules (trunk prefix, carrier codes, ...). */
export function readNational(dial: string, plan: DialPlan): NationalReading | undefined {
  if (plan.country === undefined) return undefined;
  let reading = plan.readings.get(dial);
  if (reading === undefined) {
    let parsed: PhoneNumber | undefined;
    try {
      parsed = parsePhoneNumberFromString(dial, { defaultCountry: plan.country, extract: false });
    } catch {
      parsed = undefined;
    }
    reading = parsed === undefined ? null : { e164: parsed.number.slice(1), possible: parsed.isPossible() };
    if (parsed !== undefined && reading !== null) primeVerdict(reading.e164, parsed);
    if (plan.readings.size >= READING_CACHE_SIZE) plan.readings.clear();
    plan.readings.set(dial, reading);
  }
  return reading ?? undefined;
}

export function isValidE164(digits: string): boolean {
  if (digits.length < 4 || digits.length > MAX_E164_DIGITS) return false;
  const callingCode = callingCodeOf(digits);
  return callingCode !== undefined && verdictFor(digits, callingCode).valid;
}

// Bounded although accounts are few: the country string comes from outside.
const dialPlans = new Map<string, DialPlan>();

export function dialPlanFor(accountCountry: string): DialPlan {
  let plan = dialPlans.get(accountCountry);
  if (plan === undefined) {
    plan = makeDialPlan(accountCountry);
    if (dialPlans.size < PLAN_CACHE_SIZE) dialPlans.set(accountCountry, plan);
  }
  return plan;
}

function makeDialPlan(accountCountry: string): DialPlan {
  const country = typeof accountCountry === "string" ? accountCountry.trim().toUpperCase() : "";
  if (!isSupportedCountry(country)) {
    return {
      country: undefined,
      home: [],
      idd: /^00/,
      trunkPrefix: undefined,
      trunkPrefixOptional: false,
      readings: new Map(),
    };
  }
  const meta = new Metadata();
  meta.selectNumberingPlan(country);
  // The metadata has the international prefix of every country it knows (010 in Japan, 011 in NANP,
  // 00 in most places, patterns where carriers are selected by digits); 00 is the fallback.
  const iddPattern = meta.numberingPlan?.IDDPrefix() || "00";
  const carrier = carrierSelection[country];
  const pattern = carrier === undefined ? iddPattern : `(?:${carrier})?(?:${iddPattern})`;
  // The typed surface of NumberingPlan omits nationalPrefix(), which every plan has at runtime.
  const planWithPrefix = meta.numberingPlan as { nationalPrefix?: () => unknown } | undefined;
  const trunk =
    typeof planWithPrefix?.nationalPrefix === "function" ? planWithPrefix.nationalPrefix() : undefined;
  return {
    country,
    home: homeGroups.find((group) => group.includes(country)) ?? [country],
    idd: new RegExp(`^(?:${pattern})`),
    trunkPrefix: typeof trunk === "string" && /^\d+$/.test(trunk) ? trunk : undefined,
    trunkPrefixOptional: getCountryCallingCode(country) === "1",
    readings: new Map(),
  };
}

// E.164 country codes form a prefix-free set of 1 to 3 digits, so reading the first three digits one
// at a time and checking a slot per (length, value) finds the code without slicing the string.
const callingCodeSlots: (string | undefined)[] = new Array<string | undefined>(4000).fill(undefined);

/** Regions behind each calling code; "001" stands for the non-geographic codes (+800, +870, +881 ...). */
const regionsByCode = new Map<string, readonly string[]>();
for (const [code, regions] of Object.entries(metadata.country_calling_codes))
  regionsByCode.set(code, regions);
for (const code of Object.keys(metadata.nonGeographic ?? {})) regionsByCode.set(code, ["001"]);
for (const code of regionsByCode.keys()) callingCodeSlots[code.length * 1000 + Number(code)] = code;

export function callingCodeOf(digits: string): string | undefined {
  let value = 0;
  for (let length = 1; length <= 3 && length <= digits.length; length++) {
    value = value * 10 + (digits.charCodeAt(length - 1) - 48);
    const code = callingCodeSlots[length * 1000 + value];
    if (code !== undefined) return code;
  }
  return undefined;
}

/** The one region behind a calling code ("001" for non-geographic codes), or undefined if shared. */
function soleRegion(callingCode: string): string | undefined {
  const regions = regionsByCode.get(callingCode);
  return regions !== undefined && regions.length === 1 ? regions[0] : undefined;
}

const minLengths = new Map<string, number>();

/** The shortest national number any region under the calling code allows. */
export function minNationalLength(callingCode: string): number {
  let min = minLengths.get(callingCode);
  if (min === undefined) {
    min = Number.POSITIVE_INFINITY;
    const meta = new Metadata();
    for (const region of regionsByCode.get(callingCode) ?? []) {
      try {
        meta.selectNumberingPlan((region === "001" ? callingCode : region) as CountryCode);
        for (const length of meta.numberingPlan?.possibleLengths() ?? []) min = Math.min(min, length);
      } catch {
        // A region missing from the metadata adds nothing.
      }
    }
    if (!Number.isFinite(min)) min = 2;
    minLengths.set(callingCode, min);
  }
  return min;
}

/** Region, type and validity of an E.164 number, memoised by its digits. */
const verdicts = new Map<string, Verdict>();

export function verdictFor(e164: string, callingCode: string): Verdict {
  let verdict = verdicts.get(e164);
  if (verdict === undefined) {
    verdict = computeVerdict(e164, callingCode);
    if (verdicts.size >= VERDICT_CACHE_SIZE) verdicts.clear();
    verdicts.set(e164, verdict);
  }
  return verdict;
}

/**
 * Saves the second library pass on a number first read in national form. Only valid numbers: for
 * those the library names the same region either way, while an invalid one keeps the account's
 * region in national form and none in E.164 form.
 */
function primeVerdict(e164: string, parsed: PhoneNumber): void {
  const callingCode = callingCodeOf(e164);
  if (callingCode === undefined || e164.length > MAX_E164_DIGITS || verdicts.has(e164)) return;
  let type: NumberType | undefined;
  try {
    type = parsed.getType();
  } catch {
    type = undefined;
  }
  if (type === undefined) return;
  if (verdicts.size >= VERDICT_CACHE_SIZE) verdicts.clear();
  verdicts.set(e164, { country: parsed.country ?? soleRegion(callingCode), type, valid: true });
}

function computeVerdict(e164: string, callingCode: string): Verdict {
  let country: string | undefined;
  let type: NumberType = "UNKNOWN";
  try {
    const parsed = parsePhoneNumberFromString("+" + e164);
    country = parsed?.country;
    type = parsed?.getType() ?? "UNKNOWN";
  } catch {
    // The library refused the number outright: it is not valid, and its region is all we can say.
  }
  return { country: country ?? soleRegion(callingCode), type, valid: type !== "UNKNOWN" };
}
