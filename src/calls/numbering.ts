import { err, ok, type Result } from "../core/result.js";
import {
  callingCodeOf,
  type DialPlan,
  dialPlanFor,
  iddLength,
  isValidE164,
  libraryReader,
  MAX_E164_DIGITS,
  minNationalLength,
  type Reader,
  rulesReader,
} from "./dial-plan.js";
import type { DialContext, NumberError, NumberInfo } from "./number-info.js";
import { lookupRisk, type RiskTable } from "./risk-list.js";
import { lookupRate, type TariffTable } from "./tariffs.js";

export { buildRiskTable, lookupRisk, parseRiskFile, type RiskTable } from "./risk-list.js";
export type { RulesFileError } from "./rules-yaml.js";
export {
  buildTariffTable,
  lookupRate,
  parseTariffFile,
  type TariffFile,
  type TariffTable,
} from "./tariffs.js";

/** Everything classifyNumber needs besides the number: built once at start, read on every call. */
export type NumberingData = {
  readonly risk: RiskTable;
  readonly tariffs: TariffTable;
  /** Currency of every Rate in `tariffs`. */
  readonly currency: string;
};

/*
 * How a dial string becomes an E.164 number
 *
 * 1. Unwrap: `tel:` and `sip:`/`sips:` URIs (user part only, parameters dropped), `<...>` name-addr.
 * 2. Clean: digits, one leading '+', and the visual separators space - . ( ) are accepted; anything
 *    else is NOT_A_NUMBER.
 * 3. '+' means E.164 already: the digits are the answer, whatever the account's country.
 * 4. Outside-line prefix (DialContext.outsideLinePrefix, e.g. "0" on Japanese business PBXs): when the
 *    digits start with it, the rest is tried first, and used only if it is a complete dial string on its
 *    own: the international prefix followed by a known country code, or the trunk prefix ("0" in Japan)
 *    followed by a number of possible length. Where the trunk prefix is optional (NANP) or absent
 *    (Italy, Spain, ...) the rest must be a valid national number. Otherwise the prefix was not an
 *    outside-line digit and the whole string is read as dialled: with prefix "0" in Japan, `00312345678`
 *    is 0 + 03-1234-5678, and `0312345678` is 03-1234-5678 itself (the rest, `312345678`, lacks the
 *    trunk prefix a Japanese national number needs).
 * 5. International prefix of the account's country, from the numbering metadata (Japan 010, NANP 011,
 *    most of the world 00, and the carrier-selection forms some countries use). Japan also accepts the
 *    carrier-selection codes placed before 010 (001 010 ..., 0033 010 ...). An unknown account country
 *    falls back to 00.
 * 6. Otherwise a national number of the account's country. If that is not valid but the digits are a
 *    valid E.164 number without its '+' (switches often send `23276123456`), the E.164 reading wins: the
 *    guard would rather treat such a call as international than wave it through as a broken local one.
 *
 * Steps 4-6 and the verdict on the result (region, type, validity) ask the numbering metadata.
 * classifyNumber asks compiled rules that take libphonenumber-js's own decisions on its own metadata
 * (dial-plan.ts); classifyNumberWithLibrary asks the library itself. Both run the steps in this file,
 * so they can differ only where the two readers do, and numbering-readers.test.ts holds those to the
 * same answers. Nothing is approximated: type and valid are the library's too.
 */

const MAX_INPUT_CHARS = 512;
/** Outside-line digit, carrier code, international prefix and 15 E.164 digits fit in this. */
const MAX_DIAL_DIGITS = 24;

/**
 * What a dialled number is, for the account's dialling context. A number never seen before costs a
 * few hundred nanoseconds (the library takes 6-30 µs), which matters because the guard meets mostly
 * such numbers: a toll-fraud sweep dials thousands of random numbers, and office traffic is spread
 * over millions.
 */
export function classifyNumber(
  dialled: string,
  ctx: DialContext,
  data: NumberingData,
): Result<NumberInfo, NumberError> {
  return classify(dialled, ctx, data, rulesReader);
}

/**
 * classifyNumber with every metadata question put to libphonenumber-js itself (memoised per number):
 * the reference that classifyNumber is tested and benchmarked against. 6-30 µs per new number.
 */
export function classifyNumberWithLibrary(
  dialled: string,
  ctx: DialContext,
  data: NumberingData,
): Result<NumberInfo, NumberError> {
  return classify(dialled, ctx, data, libraryReader);
}

function classify(
  dialled: string,
  ctx: DialContext,
  data: NumberingData,
  reader: Reader,
): Result<NumberInfo, NumberError> {
  const dial = cleanDialString(dialled);
  if (typeof dial !== "string") return err(dial);
  const plan = dialPlanFor(ctx.country);
  const e164 =
    dial.charCodeAt(0) === 43 ? dial.slice(1) : resolveDialString(dial, plan, ctx.outsideLinePrefix, reader);
  if (typeof e164 !== "string") return err(e164);

  if (e164.length > MAX_E164_DIGITS) {
    return err(
      fail(
        "TOO_LONG",
        `${quote(dialled)} reads as a ${e164.length}-digit international number; E.164 allows at most ${MAX_E164_DIGITS}`,
      ),
    );
  }
  const callingCode = callingCodeOf(e164);
  if (callingCode === undefined) {
    return err(
      fail(
        "UNKNOWN_COUNTRY_CODE",
        `${quote(dialled)} reads as +${e164}, which does not start with an assigned country calling code`,
      ),
    );
  }
  const minLength = minNationalLength(callingCode);
  if (e164.length - callingCode.length < minLength) {
    return err(
      fail(
        "TOO_SHORT",
        `${quote(dialled)} reads as +${e164}: numbers under +${callingCode} have at least ${minLength} digits after the country code (short service codes are not telephone numbers)`,
      ),
    );
  }
  const verdict = reader.verdict(e164, callingCode);
  return ok({
    input: dialled,
    e164,
    // Regions, not calling codes: +1 876 (Jamaica) from a US account leaves the country. A region the
    // metadata cannot tell (an unassigned +1 range) counts as abroad: nothing proves the call stays home.
    international: verdict.country === undefined || !plan.home.includes(verdict.country),
    country: verdict.country,
    countryCallingCode: callingCode,
    type: verdict.type,
    valid: verdict.valid,
    risk: lookupRisk(data.risk, e164),
    rate: lookupRate(data.tariffs, e164),
  });
}

/** The dial string with URI wrapping and separators removed: digits, with '+' first if it was given. */
function cleanDialString(input: string): string | NumberError {
  if (typeof input !== "string") return fail("NOT_A_NUMBER", "the number must be given as a string");
  if (input.length > MAX_INPUT_CHARS) {
    return fail(
      "TOO_LONG",
      `the number is ${input.length} characters long; no dial string or URI needs more than ${MAX_INPUT_CHARS}`,
    );
  }
  let s = input.trim();
  if (s === "") return fail("EMPTY", "no number was given");
  const open = s.indexOf("<");
  if (open >= 0) {
    const close = s.indexOf(">", open + 1);
    s = s.slice(open + 1, close < 0 ? s.length : close).trim();
  }
  const colon = s.indexOf(":");
  if (colon >= 0) {
    const scheme = s.slice(0, colon).toLowerCase();
    if (scheme === "sip" || scheme === "sips") {
      const at = s.indexOf("@", colon);
      s = s.slice(colon + 1, at < 0 ? s.length : at);
    } else if (scheme === "tel") {
      s = s.slice(colon + 1);
    } else {
      return fail(
        "NOT_A_NUMBER",
        `${quote(input)} is a "${scheme.slice(0, 16)}:" URI; only tel:, sip: and sips: carry telephone numbers`,
      );
    }
    const params = s.search(/[;?]/);
    if (params >= 0) s = s.slice(0, params);
    if (s.trim() === "") return fail("NOT_A_NUMBER", `${quote(input)} has no number in its user part`);
  }

  // Switches mostly send bare digits, with or without '+': hand back the string we already have.
  const first = s.charCodeAt(0) === 43 ? 1 : 0;
  let bare = s.length > first && s.length - first <= MAX_DIAL_DIGITS;
  for (let i = first; bare && i < s.length; i++) {
    const c = s.charCodeAt(i);
    bare = c >= 48 && c <= 57;
  }
  if (bare) return s;

  let digits = "";
  let plus = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits.length === MAX_DIAL_DIGITS) {
        return fail(
          "TOO_LONG",
          `${quote(input)} has more than ${MAX_DIAL_DIGITS} digits; no dial string is that long`,
        );
      }
      digits += s[i];
    } else if (c === 43 && digits === "" && !plus) {
      plus = true;
    } else if (c !== 32 && c !== 45 && c !== 46 && c !== 40 && c !== 41 && c !== 9) {
      return fail(
        "NOT_A_NUMBER",
        `${quote(input)} contains ${JSON.stringify(s[i])}; a number may hold only digits, a leading '+' and the separators space - . ( )`,
      );
    }
  }
  if (digits === "") return fail("NOT_A_NUMBER", `${quote(input)} contains no digits`);
  return plus ? "+" + digits : digits;
}

function resolveDialString(
  dial: string,
  plan: DialPlan,
  outsideLinePrefix: string | undefined,
  reader: Reader,
): string | NumberError {
  if (
    outsideLinePrefix !== undefined &&
    outsideLinePrefix !== "" &&
    dial.length > outsideLinePrefix.length &&
    dial.startsWith(outsideLinePrefix)
  ) {
    const stripped = afterOutsideLine(dial.slice(outsideLinePrefix.length), plan, reader);
    if (stripped !== undefined) return stripped;
  }
  const idd = iddLength(dial, plan);
  if (idd > 0) {
    if (idd === dial.length) return fail("TOO_SHORT", `${quote(dial)} is only an international prefix`);
    return dial.slice(idd);
  }
  if (plan.country === undefined) {
    if (isValidE164(dial, reader)) return dial;
    return fail(
      "UNKNOWN_COUNTRY_CODE",
      `the account's country is not a known ISO 3166 code, so ${quote(dial)} cannot be read as a national number; send it as +E.164`,
    );
  }
  const national = reader.national(dial, plan)?.e164;
  if (national !== undefined && isValidE164(national, reader)) return national;
  if (dial.charCodeAt(0) !== 48 && isValidE164(dial, reader)) return dial;
  if (national !== undefined) return national;
  return dial.length > 17
    ? fail("TOO_LONG", `${quote(dial)} is too long for a national number in ${plan.country}`)
    : fail("TOO_SHORT", `${quote(dial)} is too short for a telephone number in ${plan.country}`);
}

/** The E.164 digits if what follows an outside-line prefix is a complete dial string, else undefined. */
function afterOutsideLine(rest: string, plan: DialPlan, reader: Reader): string | undefined {
  const idd = iddLength(rest, plan);
  if (idd > 0) {
    const e164 = rest.slice(idd);
    return callingCodeOf(e164) === undefined ? undefined : e164;
  }
  if (plan.country === undefined) return undefined;
  const trunk = plan.trunkPrefix;
  const withTrunk = trunk !== undefined && rest.startsWith(trunk);
  if (trunk !== undefined && !withTrunk && !plan.trunkPrefixOptional) return undefined;
  const reading = reader.national(rest, plan);
  if (reading === undefined) return undefined;
  if (withTrunk) return reading.possible ? reading.e164 : undefined;
  return isValidE164(reading.e164, reader) ? reading.e164 : undefined;
}

function fail(code: NumberError["code"], message: string): NumberError {
  return { code, message };
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? text.slice(0, 40) + "…" : text);
}
