import {
  type CountryCode,
  getCountryCallingCode,
  isSupportedCountry,
  Metadata,
  type PhoneNumber,
  parsePhoneNumberFromString,
} from "libphonenumber-js/max";
import metadata from "libphonenumber-js/metadata.max.json";
import { DigitMemo } from "./digit-trie.js";
import type { NumberType } from "./number-info.js";

/*
 * What the numbering metadata says about dialling from a country and about a number, shaped for the
 * authorize hot path. Two readers give the same answers:
 *
 * - libraryReader asks libphonenumber-js itself. A number it has not seen costs 6-30 µs: every parse
 *   builds Metadata and PhoneNumber objects and runs a dozen regular expressions built from strings.
 *   It is the reference, memoised per number. A full cache is emptied rather than kept in LRU order:
 *   one burst of misses, and no bookkeeping on the hits.
 * - rulesReader takes the same decisions on the same metadata with each region's patterns compiled
 *   once (see "Reading by compiled rules" below): a number seen for the first time costs a few
 *   hundred nanoseconds, and one seen again is answered from a memo that keeps no string alive.
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
  /** The country's compiled numbering rules; undefined with the country. */
  readonly rules: Rules | undefined;
  /** Memoised library readings by dial string; null where the library found no number. */
  readonly readings: Map<string, NationalReading | null>;
};

export type Verdict = {
  readonly country: string | undefined;
  readonly type: NumberType;
  readonly valid: boolean;
};

/** A dial string read as a national number of the plan's country. */
export type NationalReading = { readonly e164: string; readonly possible: boolean };

/** One way of answering the two questions numbering asks the metadata. */
export type Reader = {
  /**
   * The dial string read as a national number of the plan's country (trunk prefix, carrier codes,
   * a calling code dialled without '+'), undefined where it is no number. Only for dial strings that
   * do not start with the plan's international prefix: the caller has ruled those out.
   */
  readonly national: (dial: string, plan: DialPlan) => NationalReading | undefined;
  /** Region, type and validity of an E.164 number under its calling code. */
  readonly verdict: (e164: string, callingCode: string) => Verdict;
};

export function iddLength(dial: string, plan: DialPlan): number {
  const match = plan.idd.exec(dial);
  return match === null ? 0 : match[0].length;
}

export function isValidE164(digits: string, reader: Reader): boolean {
  if (digits.length < 4 || digits.length > MAX_E164_DIGITS) return false;
  const callingCode = callingCodeOf(digits);
  return callingCode !== undefined && reader.verdict(digits, callingCode).valid;
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
      rules: undefined,
      readings: new Map(),
    };
  }
  const meta = new Metadata();
  meta.selectNumberingPlan(country);
  const plan = meta.numberingPlan as unknown as PlanView;
  // The metadata has the international prefix of every country it knows (010 in Japan, 011 in NANP,
  // 00 in most places, patterns where carriers are selected by digits); 00 is the fallback.
  const iddPattern = plan.IDDPrefix() || "00";
  const carrier = carrierSelection[country];
  const pattern = carrier === undefined ? iddPattern : `(?:${carrier})?(?:${iddPattern})`;
  const trunk = plan.nationalPrefix();
  return {
    country,
    home: homeGroups.find((group) => group.includes(country)) ?? [country],
    idd: new RegExp(`^(?:${pattern})`),
    trunkPrefix: typeof trunk === "string" && /^\d+$/.test(trunk) ? trunk : undefined,
    trunkPrefixOptional: getCountryCallingCode(country) === "1",
    rules: rulesOf(country),
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
    for (const region of regionsByCode.get(callingCode) ?? []) {
      const lengths = rulesOf(region === "001" ? callingCode : region)?.lengths ?? [];
      for (const length of lengths) min = Math.min(min, length);
    }
    if (!Number.isFinite(min)) min = 2;
    minLengths.set(callingCode, min);
  }
  return min;
}

/* ---------------------------------------------------------------------------------------------------
 * The library as reader: the reference
 */

export const libraryReader: Reader = { national: readNational, verdict: verdictFor };

function readNational(dial: string, plan: DialPlan): NationalReading | undefined {
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

/** Region, type and validity of an E.164 number, memoised by its digits. */
const verdicts = new Map<string, Verdict>();

function verdictFor(e164: string, callingCode: string): Verdict {
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

/* ---------------------------------------------------------------------------------------------------
 * Reading by compiled rules
 *
 * Why not a cache per number block (country code + first digits + length) in front of the library:
 * a block only settles region and validity where the patterns stop looking at digits beyond it, and
 * they do not stop at one depth (NANP looks at the exchange code, +1 305 2 and +1 505 6 at six
 * national digits, and an invalid +1 number has no region at all while its valid neighbours have
 * one), so a block cache is either deep enough to be useless against random numbers or wrong for
 * some. The cost of the library is not its patterns but the work around them, so this reader runs
 * the library's own decisions over the library's own metadata, with each region's patterns compiled
 * once, and gives the same answers for every number:
 *
 * - national significant number: the national prefix for parsing is stripped (or the transform rule
 *   applied) unless the number matched the national pattern before and does not after, or what is
 *   left is too short or of an impossible length for the region it then belongs to;
 * - region: the one region of the calling code; under a shared code, the first region in metadata
 *   order whose leading digits start the number or, for a region without leading digits, for which
 *   the number has a type; none when no region claims it ("001" for the non-geographic codes);
 * - type: fixed line if the national pattern and the fixed-line pattern match (fixed line or mobile
 *   when the mobile pattern is absent, empty or matches too), else the first of mobile, premium
 *   rate, toll free, shared cost, VoIP, personal number, pager, UAN, voicemail that matches, each
 *   only at its possible lengths; valid means a type was found;
 * - a national dial string: a leading calling code counts as one when the rest matches the national
 *   pattern and the whole does not, or the whole is too long; then the steps above.
 *
 * numbering.test.ts holds both readers to identical results over generated numbers of every region.
 * A libphonenumber-js upgrade that changes these decisions shows there first.
 */

export const rulesReader: Reader = { national: readNationalByRules, verdict: verdictByRules };

type TypeRule = {
  readonly type: NumberType;
  readonly pattern: RegExp;
  /** The type's possible lengths, else the region's. */
  readonly lengths: readonly number[] | undefined;
};

export type Rules = {
  /** Small and unique: tags the rules' entries in the memo of national readings. */
  readonly id: number;
  readonly callingCode: string;
  /** The region's national number pattern, anchored at both ends. */
  readonly national: RegExp;
  readonly lengths: readonly number[] | undefined;
  readonly leadingDigits: string | undefined;
  readonly nationalPrefix: RegExp | undefined;
  readonly transform: string | undefined;
  /** All type patterns in one: a number none of them matches has no type, whatever its length. */
  readonly anyType: RegExp;
  readonly fixedLine: TypeRule | undefined;
  /** Undefined where every fixed-line number counts as mobile too (no or an empty mobile pattern). */
  readonly mobile: TypeRule | undefined;
  /** The types after fixed line, in the order the library tries them. */
  readonly others: readonly TypeRule[];
};

/** The slice of the library's NumberingPlan read here (its typings declare fewer methods). */
type PlanView = {
  callingCode(): string;
  IDDPrefix(): string | undefined;
  nationalPrefix(): string | undefined;
  nationalNumberPattern(): string | undefined;
  possibleLengths(): number[] | undefined;
  leadingDigits(): string | undefined;
  nationalPrefixForParsing(): string | undefined;
  nationalPrefixTransformRule(): string | undefined;
  type(type: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
};

const laterTypes = [
  "MOBILE",
  "PREMIUM_RATE",
  "TOLL_FREE",
  "SHARED_COST",
  "VOIP",
  "PERSONAL_NUMBER",
  "PAGER",
  "UAN",
  "VOICEMAIL",
] as const;

const compiledRules = new Map<string, Rules | null>();

/** Rules of a region ("JP") or of the numbering plan behind a calling code ("1" is US, "881" its own). */
function rulesOf(regionOrCode: string): Rules | undefined {
  let rules = compiledRules.get(regionOrCode);
  if (rules === undefined) {
    rules = compileRules(regionOrCode);
    compiledRules.set(regionOrCode, rules);
  }
  return rules ?? undefined;
}

function compileRules(regionOrCode: string): Rules | null {
  const meta = new Metadata();
  try {
    meta.selectNumberingPlan(regionOrCode as CountryCode);
  } catch {
    return null;
  }
  const plan = meta.numberingPlan as unknown as PlanView | undefined;
  if (plan === undefined) return null;
  const patterns: string[] = [];
  const typeRule = (type: NumberType): TypeRule | undefined => {
    const found = plan.type(type);
    const pattern = found?.pattern();
    if (found === undefined || !pattern) return undefined;
    patterns.push(pattern);
    return { type, pattern: new RegExp(`^(?:${pattern})$`), lengths: found.possibleLengths() };
  };
  const fixedLine = typeRule("FIXED_LINE");
  const others = laterTypes.map(typeRule).filter((rule): rule is TypeRule => rule !== undefined);
  const prefix = plan.nationalPrefixForParsing();
  return {
    id: compiledRules.size + 1,
    callingCode: plan.callingCode(),
    national: new RegExp(`^(?:${plan.nationalNumberPattern() ?? ""})$`),
    lengths: plan.possibleLengths(),
    leadingDigits: plan.leadingDigits() || undefined,
    nationalPrefix: prefix ? new RegExp(`^(?:${prefix})`) : undefined,
    transform: plan.nationalPrefixTransformRule() || undefined,
    anyType: new RegExp(patterns.length === 0 ? "(?!)" : `^(?:${patterns.join("|")})$`),
    fixedLine,
    mobile: others.find((rule) => rule.type === "MOBILE"),
    others,
  };
}

/**
 * How the regions under a shared calling code claim a number, in metadata order. A run of regions
 * known by leading digits becomes one alternation, one capturing group per region: alternation tries
 * its branches in order, so the group that matches is the first region that would.
 */
type ClaimStep =
  | { readonly region: string; readonly rules: Rules; readonly leading?: undefined }
  | { readonly regions: readonly string[]; readonly leading: RegExp };

type CodeRules = {
  readonly main: Rules;
  /** The region of every number: the only one, "001" for non-geographic codes, undefined if shared. */
  readonly sole: string | undefined;
  readonly steps: readonly ClaimStep[];
};

const codeRules = new Map<string, CodeRules | null>();

function codeRulesOf(callingCode: string): CodeRules | undefined {
  let found = codeRules.get(callingCode);
  if (found === undefined) {
    found = compileCodeRules(callingCode);
    codeRules.set(callingCode, found);
  }
  return found ?? undefined;
}

function compileCodeRules(callingCode: string): CodeRules | null {
  const regions = regionsByCode.get(callingCode) ?? [];
  // The library's plan for a calling code is its first region's ("1" is US), else its own (+881).
  const first = regions[0];
  const main = rulesOf(first === undefined || first === "001" ? callingCode : first);
  if (main === undefined) return null;
  const steps: ClaimStep[] = [];
  let run: string[] = [];
  const endRun = () => {
    if (run.length === 0) return;
    const branches = run.map((region) => `(${rulesOf(region)?.leadingDigits})`);
    steps.push({ regions: run, leading: new RegExp(`^(?:${branches.join("|")})`) });
    run = [];
  };
  for (const region of regions.length > 1 ? regions : []) {
    const rules = rulesOf(region);
    if (rules === undefined) continue;
    // Groups inside a leading-digits pattern would shift the numbering of the alternation's groups.
    const leading = rules.leadingDigits;
    if (leading !== undefined && new RegExp(`${leading}|`).exec("")?.length === 1) {
      run.push(region);
    } else {
      endRun();
      if (leading !== undefined) steps.push({ regions: [region], leading: new RegExp(`^(?:(${leading}))`) });
      else steps.push({ region, rules });
    }
  }
  endRun();
  return { main, sole: regions.length === 1 ? regions[0] : undefined, steps };
}

const POSSIBLE = 0;
const TOO_SHORT = 1;
const TOO_LONG = 2;
const INVALID_LENGTH = 3;

/** The library's length check; it reads only the first and last entries as bounds. */
function lengthCheck(digits: string, lengths: readonly number[]): number {
  const length = digits.length;
  const min = lengths[0] ?? Number.NaN;
  if (min === length) return POSSIBLE;
  if (min > length) return TOO_SHORT;
  if ((lengths[lengths.length - 1] ?? Number.NaN) < length) return TOO_LONG;
  return lengths.indexOf(length, 1) >= 0 ? POSSIBLE : INVALID_LENGTH;
}

function isType(nsn: string, rule: TypeRule | undefined): boolean {
  if (rule === undefined) return false;
  if (rule.lengths !== undefined && !rule.lengths.includes(nsn.length)) return false;
  return rule.pattern.test(nsn);
}

function typeOf(nsn: string, rules: Rules): NumberType | undefined {
  if (!rules.national.test(nsn) || !rules.anyType.test(nsn)) return undefined;
  if (isType(nsn, rules.fixedLine)) {
    return rules.mobile === undefined || isType(nsn, rules.mobile) ? "FIXED_LINE_OR_MOBILE" : "FIXED_LINE";
  }
  for (const rule of rules.others) if (isType(nsn, rule)) return rule.type;
  return undefined;
}

// The last claim: one national number is claimed up to five times while a national dial string is
// read and checked, and a one-entry memo needs neither a key string nor a result object.
let claimCode: CodeRules | undefined;
let claimNsn = "";
let claimedRegion: string | undefined;
let claimedType: NumberType | undefined;

/** Sets claimedRegion and claimedType: the region that claims the number and its type there. */
function claim(code: CodeRules, nsn: string): void {
  if (code === claimCode && nsn === claimNsn) return;
  claimCode = code;
  claimNsn = nsn;
  claimedRegion = code.sole === "001" ? undefined : code.sole;
  claimedType = undefined;
  let typed = false;
  for (const step of code.steps) {
    if (step.leading === undefined) {
      const type = typeOf(nsn, step.rules);
      if (type !== undefined) {
        claimedRegion = step.region;
        claimedType = type;
        return;
      }
      typed ||= step.rules === code.main;
    } else if (nsn !== "") {
      const match = step.leading.exec(nsn);
      if (match === null) continue;
      for (let i = 1; i < match.length && claimedRegion === undefined; i++) {
        if (match[i] !== undefined) claimedRegion = step.regions[i - 1];
      }
      break;
    }
  }
  const rules = claimedRegion === undefined ? code.main : rulesOf(claimedRegion);
  // A main region without leading digits has already been asked, and had no type for the number.
  if (rules !== undefined && !(claimedRegion === undefined && typed)) claimedType = typeOf(nsn, rules);
}

/** The national significant number: national prefix (and carrier code) off where the library takes it off. */
function significant(digits: string, code: CodeRules, rules: Rules): string {
  const prefix = rules.nationalPrefix;
  if (digits === "" || prefix === undefined) return digits;
  const match = prefix.exec(digits);
  if (match === null) return digits;
  const last = match[match.length - 1];
  const captured = match.length > 1 && last !== undefined && last !== "";
  const nsn =
    rules.transform !== undefined && captured
      ? digits.replace(prefix, rules.transform)
      : digits.slice(match[0].length);
  if (nsn === digits) return digits;
  if (rules.national.test(digits) && !rules.national.test(nsn)) return digits;
  if (rules.lengths !== undefined) {
    claim(code, nsn);
    const lengths = (claimedRegion === undefined ? rules : rulesOf(claimedRegion))?.lengths;
    if (lengths !== undefined) {
      const check = lengthCheck(nsn, lengths);
      if (check === TOO_SHORT || check === INVALID_LENGTH) return digits;
    }
  }
  return nsn;
}

/*
 * Recent verdicts and national readings, for the numbers a switch sends again, in DigitMemos: a Map
 * keyed by strings would keep every new number alive long enough to be copied out of the young
 * generation, which costs more on traffic of new numbers than the memo saves. A verdict is stored as
 * its index in a table of shared verdict objects; a reading as 2 × the number of leading digits that
 * give way to the calling code, + 1 if possible (-1: no number). Readings of another shape (a
 * transform rule rewrote the digits) are not memoised.
 */
const recentVerdicts = new DigitMemo(8192);
const recentReadings = new DigitMemo(8192);
const verdictTable: Verdict[] = [];
const verdictIndex = new Map<string | undefined, Map<NumberType, number>>();

/** The shared verdict, stored in recentVerdicts under the key of its last get(). */
function remember(country: string | undefined, type: NumberType): Verdict {
  let byType = verdictIndex.get(country);
  if (byType === undefined) {
    byType = new Map();
    verdictIndex.set(country, byType);
  }
  let index = byType.get(type);
  if (index === undefined) {
    index = verdictTable.push({ country, type, valid: type !== "UNKNOWN" }) - 1;
    byType.set(type, index);
  }
  recentVerdicts.store(index);
  return verdictTable[index] as Verdict;
}

function verdictByRules(e164: string, callingCode: string): Verdict {
  const index = recentVerdicts.get(e164, 0);
  if (index >= 0) return verdictTable[index] as Verdict;
  const code = codeRulesOf(callingCode);
  if (code === undefined) return verdictFor(e164, callingCode);
  const nsn = significant(e164.slice(callingCode.length), code, code.main);
  // The library refuses national numbers outside 2-17 digits: the calling code's own region is all.
  if (nsn.length < 2 || nsn.length > 17) return remember(soleRegion(callingCode), "UNKNOWN");
  claim(code, nsn);
  return remember(claimedRegion ?? soleRegion(callingCode), claimedType ?? "UNKNOWN");
}

function readNationalByRules(dial: string, plan: DialPlan): NationalReading | undefined {
  const home = plan.rules;
  if (home === undefined) return readNational(dial, plan);
  const known = recentReadings.get(dial, home.id);
  if (known >= 0) {
    const dropped = Math.floor(known / 2);
    return { e164: home.callingCode + dial.slice(dropped), possible: known % 2 === 1 };
  }
  if (known === -1) return undefined;
  const reading = readNationalFresh(dial, plan);
  if (reading === undefined) {
    recentReadings.store(-1);
  } else {
    const dropped = dial.length + home.callingCode.length - reading.e164.length;
    if (
      dropped >= 0 &&
      reading.e164.endsWith(dial.slice(dropped)) &&
      reading.e164.startsWith(home.callingCode)
    ) {
      recentReadings.store(dropped * 2 + (reading.possible ? 1 : 0));
    }
  }
  return reading;
}

function readNationalFresh(dial: string, plan: DialPlan): NationalReading | undefined {
  const home = plan.rules;
  const code = home === undefined ? undefined : codeRulesOf(home.callingCode);
  // The library's own viability test refuses dial strings under three digits: leave those to it.
  if (home?.lengths === undefined || code === undefined || dial.length < 3) return readNational(dial, plan);
  let rules = home;
  let digits = dial;
  let region: string | undefined = plan.country;
  let nsn = significant(dial, code, home);
  if (dial.startsWith(home.callingCode)) {
    // The calling code dialled without '+', as the library decides it.
    const rest = dial.slice(home.callingCode.length);
    if (
      (!home.national.test(nsn) && home.national.test(significant(rest, code, home))) ||
      lengthCheck(nsn, home.lengths) === TOO_LONG
    ) {
      rules = code.main;
      digits = rest;
      region = undefined;
      nsn = significant(digits, code, rules);
    }
  }
  if (nsn.length < 2 || nsn.length > 17) return undefined;
  claim(code, nsn);
  region = claimedRegion ?? region;
  const lengths = (region === undefined ? rules : rulesOf(region))?.lengths;
  if (lengths === undefined) return readNational(dial, plan);
  return { e164: home.callingCode + nsn, possible: lengthCheck(nsn, lengths) === POSSIBLE };
}
