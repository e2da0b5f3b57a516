import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import examples from "libphonenumber-js/examples.mobile.json";
import {
  type CountryCode,
  getCountries,
  getCountryCallingCode,
  getExampleNumber,
  parsePhoneNumberFromString,
} from "libphonenumber-js/max";
import metadata from "libphonenumber-js/metadata.max.json";
import { DigitMemo } from "./digit-trie.js";
import type { DialContext } from "./number-info.js";
import {
  buildRiskTable,
  buildTariffTable,
  classifyNumber,
  classifyNumberWithLibrary,
  type NumberingData,
} from "./numbering.js";

/*
 * classifyNumber reads the numbering metadata through compiled rules; classifyNumberWithLibrary asks
 * libphonenumber-js. These properties hold the two to the same answer, every field (e164,
 * international, country, calling code, type, validity, risk, rate) and every refusal, over generated
 * numbers in the forms switches send. Each number is classified twice by the fast path: the second
 * answer comes from its memo of recent numbers and must not differ either.
 */

const data: NumberingData = {
  risk: buildRiskTable([
    { prefix: "232", level: "high", reason: "Sierra Leone" },
    { prefix: "870", level: "high", reason: "Inmarsat" },
    { prefix: "8816", level: "high", reason: "Iridium" },
    { prefix: "882", level: "high", reason: "International Networks" },
    { prefix: "1876", level: "elevated", reason: "Jamaica" },
    { prefix: "1809", level: "elevated", reason: "Dominican Republic" },
    { prefix: "8190", level: "elevated", reason: "test: a national range" },
  ]),
  tariffs: buildTariffTable([
    { prefix: "", perMinute: 150, perCall: 0, description: "International, other" },
    { prefix: "81", perMinute: 3, perCall: 0, description: "Japan fixed" },
    { prefix: "8190", perMinute: 16, perCall: 0, description: "Japan mobile" },
    { prefix: "1", perMinute: 9, perCall: 0, description: "US and Canada" },
    { prefix: "1876", perMinute: 60, perCall: 0, description: "Jamaica" },
    { prefix: "881", perMinute: 1200, perCall: 100, description: "GMSS" },
  ]),
  currency: "JPY",
};

function agree(dialled: string, ctx: DialContext): void {
  const expected = classifyNumberWithLibrary(dialled, ctx, data);
  const label = `${JSON.stringify(dialled)} from ${ctx.country} (outside line ${ctx.outsideLinePrefix})`;
  assert.deepEqual(classifyNumber(dialled, ctx, data), expected, label);
  assert.deepEqual(classifyNumber(dialled, ctx, data), expected, `${label}, again`);
}

const digits = (min: number, max: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(""));

/** The international prefix dialled from each account country (one of its forms). */
const internationalPrefix: Readonly<Record<string, string>> = {
  JP: "010",
  US: "011",
  CA: "011",
  JM: "011",
  PR: "011",
  AU: "0011",
  RU: "810",
  KZ: "810",
  BR: "0014",
  MX: "00",
  KR: "001",
};
const accounts = Object.keys(internationalPrefix).concat(["GB", "DE", "FR", "IT", "CN", "IN", "SL", "AR"]);
const idd = (country: string) => internationalPrefix[country] ?? "00";

const callingCodes = Object.keys(metadata.country_calling_codes).concat(Object.keys(metadata.nonGeographic));
const exampleE164 = getCountries()
  .map((country) => getExampleNumber(country, examples)?.number.slice(1))
  .filter((e164): e164 is string => e164 !== undefined);

// E.164 numbers: example numbers of every region with their tail varied (mostly valid), random
// digits under every calling code (mostly not), NANP across all its regions, satellite and other
// non-geographic codes, and a toll-fraud sweep through one range.
const nanpAreas = ["212", "415", "613", "416", "604", "876", "658", "809", "829", "242", "268", "264", "441"]
  .concat(["284", "340", "345", "473", "649", "664", "670", "671", "684", "721", "758", "767", "784", "787"])
  .concat(["868", "869", "939", "800", "833", "900", "500", "521", "600", "310", "311", "555", "999"]);
const e164 = fc.oneof(
  fc
    .tuple(fc.constantFrom(...exampleE164), fc.integer({ min: 1, max: 6 }), digits(0, 7))
    .map(([example, keep, tail]) => (example.slice(0, -keep) + tail).slice(0, 15))
    .filter((number) => number.length >= 4),
  fc.tuple(fc.constantFrom(...callingCodes), digits(4, 12)).map(([code, rest]) => (code + rest).slice(0, 15)),
  fc.tuple(fc.constantFrom(...nanpAreas), digits(7, 7)).map(([area, rest]) => "1" + area + rest),
  fc
    .tuple(fc.constantFrom("870", "8816", "8817", "8812", "88216", "883", "800", "808", "878", "888", "979"))
    .chain(([code]) => digits(6, 14 - code.length).map((rest) => code + rest)),
  digits(6, 6).map((rest) => "23276" + rest),
);

describe("classifyNumber and the library agree", () => {
  test("Japanese national numbers, with and without outside-line 0", () => {
    const heads = ["03", "06", "045", "052", "011", "0466", "090", "080", "070", "050", "0120", "0800"];
    const odd = ["0570", "0990", "020", "060", "0037", "0066", "00777", "0", "1", "81"];
    fc.assert(
      fc.property(fc.constantFrom(...heads, ...heads, ...odd), digits(4, 9), (head, rest) => {
        agree(head + rest, { country: "JP" });
        agree("0" + head + rest, { country: "JP", outsideLinePrefix: "0" });
        agree(head + rest, { country: "JP", outsideLinePrefix: "0" });
        agree(`${head}-${rest.slice(0, 4)}-${rest.slice(4)}`, { country: "JP" });
      }),
      { numRuns: 3000 },
    );
  });

  test("E.164 numbers of every region, with '+', an international prefix, an outside line or bare", () => {
    fc.assert(
      fc.property(e164, fc.constantFrom(...accounts), (number, country) => {
        agree("+" + number, { country });
        agree(idd(country) + number, { country });
        agree(number, { country });
        const outside = country === "JP" ? "0" : "9";
        agree(outside + idd(country) + number, { country, outsideLinePrefix: outside });
        agree(`sip:+${number}@gw.example;user=phone`, { country });
      }),
      { numRuns: 4000 },
    );
    // Carrier selection before Japan's international prefix.
    fc.assert(
      fc.property(e164, fc.constantFrom("001", "0033", "0041", "0046", "0061"), (number, carrier) => {
        agree(carrier + "010" + number, { country: "JP" });
        agree("0" + carrier + "010" + number, { country: "JP", outsideLinePrefix: "0" });
      }),
      { numRuns: 1000 },
    );
  });

  test("national numbers as dialled at home, across NANP and other shared calling codes", () => {
    fc.assert(
      fc.property(e164, (number) => {
        const parsed = parsePhoneNumberFromString("+" + number);
        const home = parsed?.country;
        if (parsed === undefined || home === undefined) return;
        const national = parsed.formatNational();
        agree(national, { country: home });
        agree(parsed.nationalNumber, { country: home });
        agree(getCountryCallingCode(home) + parsed.nationalNumber, { country: home });
        agree("9" + national, { country: home, outsideLinePrefix: "9" });
        agree("0" + national, { country: home, outsideLinePrefix: "0" });
        // The same digits from a neighbour under the same calling code.
        agree(national, { country: getCountryCallingCode(home) === "1" ? "US" : "GB" });
      }),
      { numRuns: 3000 },
    );
  });

  test("any digits, from accounts whose rules rewrite national numbers", () => {
    // Carrier codes (BR, CO, AR), transform rules (AR and the NANP islands, GG, JE, IM), national
    // prefixes that are also leading digits (RU and KZ 8), and calling codes dialled without '+'.
    const rewriters = ["AR", "BR", "CO", "MX", "AG", "BS", "VI", "GG", "JE", "IM", "AU", "CC", "RU", "KZ"]
      .concat(["IT", "VA", "SM", "NF", "MG", "GA", "JP", "US", "CA", "FI", "AX", "NO", "MA", "BY", "UZ"])
      .concat(["XX", ""]);
    const heads = ["", "0", "1", "8", "9", "00", "01", "015", "0011", "183", "1831", "180020", "0549", "90"];
    fc.assert(
      fc.property(
        fc.constantFrom(...rewriters),
        fc.constantFrom(...heads),
        digits(1, 14),
        fc.constantFrom(undefined, "0", "9", "1"),
        (country, head, rest, outsideLinePrefix) => {
          const code =
            country.length === 2 && country !== "XX" ? getCountryCallingCode(country as CountryCode) : "";
          agree(head + rest, { country, outsideLinePrefix });
          agree(code + rest, { country, outsideLinePrefix });
        },
      ),
      { numRuns: 5000 },
    );
  });

  test("every region's example number, in every form, from home and from Japan", () => {
    for (const region of getCountries()) {
      const example = getExampleNumber(region, examples);
      if (example === undefined) continue;
      const number = example.number.slice(1);
      for (const country of [region, "JP", "US"]) {
        agree("+" + number, { country });
        agree(idd(country) + number, { country });
        agree(number, { country });
      }
      agree(example.formatNational(), { country: region });
      agree(example.nationalNumber, { country: region });
    }
  });
});

describe("DigitMemo", () => {
  test("stores under the digits and tag of the last get, telling 03 from 3", () => {
    const memo = new DigitMemo(64);
    assert.ok(Number.isNaN(memo.get("0312345678", 1)));
    memo.store(42);
    assert.equal(memo.get("0312345678", 1), 42);
    assert.ok(Number.isNaN(memo.get("312345678", 1)), "one digit fewer is another key");
    assert.ok(Number.isNaN(memo.get("0312345678", 2)), "another tag is another key");
  });

  test("refuses keys it cannot hold exactly", () => {
    const memo = new DigitMemo(64);
    for (const key of ["", "1234567890123456", "12a4", "+8131234"]) {
      assert.ok(Number.isNaN(memo.get(key, 0)), key);
      memo.store(7);
      assert.ok(Number.isNaN(memo.get(key, 0)), `${key} after store`);
    }
    memo.get("999999999999999", 0);
    memo.store(1);
    assert.equal(memo.get("999999999999999", 0), 1, "15 digits are exact");
  });

  test("a full memo forgets, and never answers with another key's value", () => {
    const memo = new DigitMemo(16);
    const keys = Array.from({ length: 2000 }, (_, i) => String(81_300_000_000 + i * 7919));
    keys.forEach((key, i) => {
      memo.get(key, 0);
      memo.store(i);
    });
    let remembered = 0;
    keys.forEach((key, i) => {
      const value = memo.get(key, 0);
      if (Number.isNaN(value)) return;
      assert.equal(value, i, key);
      remembered++;
    });
    assert.ok(remembered > 0 && remembered <= 16);
  });
});
