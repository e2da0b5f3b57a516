import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import examples from "libphonenumber-js/examples.mobile.json";
import {
  type CountryCode,
  getCountries,
  getExampleNumber,
  isValidPhoneNumber,
  parsePhoneNumber,
} from "libphonenumber-js/max";
import type { NumberError, NumberInfo } from "./number-info.js";
import { buildRiskTable, buildTariffTable, classifyNumber, type NumberingData } from "./numbering.js";

const data: NumberingData = {
  risk: buildRiskTable([
    { prefix: "232", level: "high", reason: "Sierra Leone" },
    { prefix: "870", level: "high", reason: "Inmarsat" },
    { prefix: "881", level: "high", reason: "GMSS" },
    { prefix: "8816", level: "high", reason: "Iridium" },
    { prefix: "882", level: "high", reason: "International Networks" },
    { prefix: "883", level: "high", reason: "International Networks" },
    { prefix: "1876", level: "elevated", reason: "Jamaica" },
  ]),
  tariffs: buildTariffTable([
    { prefix: "", perMinute: 150, perCall: 0, description: "International, other" },
    { prefix: "81", perMinute: 3, perCall: 0, description: "Japan fixed" },
    { prefix: "8190", perMinute: 16, perCall: 0, description: "Japan mobile" },
    { prefix: "81120", perMinute: 0, perCall: 0, description: "Japan free dial" },
    { prefix: "1", perMinute: 9, perCall: 0, description: "US and Canada" },
    { prefix: "232", perMinute: 180, perCall: 0, description: "Sierra Leone" },
    { prefix: "881", perMinute: 1200, perCall: 100, description: "GMSS" },
  ]),
  currency: "JPY",
};

function classify(dialled: string, country: string, outsideLinePrefix?: string): NumberInfo {
  const result = classifyNumber(dialled, { country, outsideLinePrefix }, data);
  if (!result.ok)
    assert.fail(`${dialled} (${country}) was refused: ${result.error.code} ${result.error.message}`);
  return result.value;
}

function refuse(dialled: string, country = "JP", outsideLinePrefix?: string): NumberError {
  const result = classifyNumber(dialled, { country, outsideLinePrefix }, data);
  if (result.ok) assert.fail(`${dialled} (${country}) was accepted as +${result.value.e164}`);
  assert.ok(result.error.message.length > 10, "the message says what is wrong");
  return result.error;
}

const sierraLeone = "23276123456";

describe("Japan", () => {
  test("E.164 with + and the international prefix 010 reach the same number", () => {
    for (const dialled of ["+23276123456", "010 232 76 123456", "01023276123456"]) {
      const info = classify(dialled, "JP");
      assert.equal(info.e164, sierraLeone, dialled);
      assert.equal(info.country, "SL");
      assert.equal(info.countryCallingCode, "232");
      assert.equal(info.international, true);
      assert.equal(info.valid, true);
      assert.equal(info.type, "MOBILE");
      assert.equal(info.risk?.level, "high");
      assert.equal(info.rate?.perMinute, 180);
      assert.equal(info.input, dialled);
    }
  });

  test("national numbers: Tokyo fixed line, mobile and free dial", () => {
    const tokyo = classify("03-1234-5678", "JP");
    assert.equal(tokyo.e164, "81312345678");
    assert.equal(tokyo.country, "JP");
    assert.equal(tokyo.international, false);
    assert.equal(tokyo.type, "FIXED_LINE");
    assert.equal(tokyo.risk, undefined);
    assert.equal(tokyo.rate?.description, "Japan fixed");

    const mobile = classify("090-1234-5678", "JP");
    assert.equal(mobile.e164, "819012345678");
    assert.equal(mobile.type, "MOBILE");
    assert.equal(mobile.rate?.perMinute, 16);

    const free = classify("0120-444-444", "JP");
    assert.equal(free.type, "TOLL_FREE");
    assert.equal(free.rate?.perMinute, 0);
  });

  test("the account country is read case-insensitively", () => {
    assert.equal(classify("0312345678", "jp").e164, "81312345678");
  });

  test("carrier-selection codes before 010 are international", () => {
    assert.equal(classify("001 010 1 212 555 1234", "JP").e164, "12125551234");
    const london = classify("0033-010-44-20-7946-0000", "JP");
    assert.equal(london.e164, "442079460000");
    assert.equal(london.country, "GB");
    assert.equal(london.international, true);
  });

  test("E.164 digits without '+' are read as international when they are no valid national number", () => {
    const info = classify(sierraLeone, "JP");
    assert.equal(info.e164, sierraLeone);
    assert.equal(info.international, true);
    assert.equal(info.risk?.prefix, "232");
  });
});

describe("outside-line prefix 0 on a Japanese PBX", () => {
  test("0 + 010 + number is international", () => {
    const info = classify("0010232761234567", "JP", "0");
    assert.equal(info.e164, "232761234567");
    assert.equal(info.country, "SL");
    assert.equal(info.international, true);
    assert.equal(info.valid, false, "one digit too many for Sierra Leone, but still a call to +232");
    assert.equal(info.risk?.prefix, "232");
    assert.equal(classify("0-010-232-76-123456", "JP", "0").e164, sierraLeone);
  });

  test("0 + national number is the national number", () => {
    assert.equal(classify("00312345678", "JP", "0").e164, "81312345678");
    assert.equal(classify("009012345678", "JP", "0").type, "MOBILE");
    assert.equal(classify("00120444444", "JP", "0").type, "TOLL_FREE");
  });

  test("a number dialled without the outside-line digit is read as it stands", () => {
    // 0312345678 minus the leading 0 is 312345678, which lacks the trunk prefix: not an outside line.
    const tokyo = classify("0312345678", "JP", "0");
    assert.equal(tokyo.e164, "81312345678");
    assert.equal(tokyo.international, false);
    assert.equal(classify("09012345678", "JP", "0").e164, "819012345678");
    assert.equal(classify("0120444444", "JP", "0").type, "TOLL_FREE");
    assert.equal(classify("01023276123456", "JP", "0").e164, sierraLeone);
  });

  test("0 + carrier code + 010 is international", () => {
    assert.equal(classify("0 001 010 1 212 555 1234", "JP", "0").e164, "12125551234");
  });

  test("without the outside-line prefix configured, 0 + 03... is not taken for Tokyo", () => {
    const info = classify("00312345678", "JP");
    assert.notEqual(info.e164, "81312345678");
    assert.equal(info.valid, false);
  });
});

describe("NANP", () => {
  test("011 is the international prefix", () => {
    const info = classify("011 44 20 7946 0000", "US");
    assert.equal(info.e164, "442079460000");
    assert.equal(info.country, "GB");
    assert.equal(info.international, true);
  });

  test("national numbers with and without the trunk prefix 1", () => {
    for (const dialled of ["(212) 555-1234", "1 212 555 1234", "1-212-555-1234", "+1.212.555.1234"]) {
      const info = classify(dialled, "US");
      assert.equal(info.e164, "12125551234", dialled);
      assert.equal(info.country, "US");
      assert.equal(info.international, false, dialled);
      assert.equal(info.rate?.perMinute, 9);
    }
  });

  test("cross-border +1 calls compare regions, not calling codes", () => {
    for (const dialled of ["+1 876 555 1234", "1-876-555-1234", "876-555-1234"]) {
      const jamaica = classify(dialled, "US");
      assert.equal(jamaica.e164, "18765551234", dialled);
      assert.equal(jamaica.country, "JM");
      assert.equal(jamaica.international, true, dialled);
      assert.equal(jamaica.risk?.level, "elevated");
    }
    const canada = classify("+1 613 555 0123", "US");
    assert.equal(canada.country, "CA");
    assert.equal(canada.international, true);
    assert.equal(classify("+1 212 555 1234", "CA").international, true);
    assert.equal(classify("+1 613 555 0123", "CA").international, false);
  });

  test("US territories dial as home from the US and back", () => {
    const puertoRico = classify("1 787 234 5678", "US");
    assert.equal(puertoRico.country, "PR");
    assert.equal(puertoRico.international, false);
    assert.equal(classify("+1 212 555 1234", "PR").international, false);
  });

  test("outside-line prefix 9", () => {
    assert.equal(classify("9 1 212 555 1234", "US", "9").e164, "12125551234");
    assert.equal(classify("9 212 555 1234", "US", "9").e164, "12125551234");
    assert.equal(classify("9 011 44 20 7946 0000", "US", "9").e164, "442079460000");
    assert.equal(classify("212 555 1234", "US", "9").e164, "12125551234");
  });
});

describe("countries dialling 00", () => {
  test("United Kingdom", () => {
    const tokyo = classify("00 81 3 1234 5678", "GB");
    assert.equal(tokyo.e164, "81312345678");
    assert.equal(tokyo.international, true);
    const london = classify("020 7946 0000", "GB");
    assert.equal(london.e164, "442079460000");
    assert.equal(london.international, false);
    assert.equal(classify("07400 123456", "GB").type, "MOBILE");
  });

  test("Germany", () => {
    assert.equal(classify("030 123456", "DE").e164, "4930123456");
    assert.equal(classify("030 123456", "DE").international, false);
    assert.equal(classify("0049 30 123456", "DE").international, false);
    const newYork = classify("00 1 212 555 1234", "DE");
    assert.equal(newYork.e164, "12125551234");
    assert.equal(newYork.international, true);
  });
});

describe("URIs and separators", () => {
  test("sip, sips and tel URIs, with parameters and display names", () => {
    const cases: [string, string][] = [
      ["sip:+23276123456@host;user=phone", sierraLeone],
      ["SIP:+23276123456@192.0.2.10:5060", sierraLeone],
      ["sips:01023276123456@pbx.example.jp", sierraLeone],
      ["tel:+81-3-1234-5678", "81312345678"],
      ["tel:03-1234-5678;phone-context=+81", "81312345678"],
      ["<sip:0312345678@pbx>", "81312345678"],
      ['"Reception" <sip:+81312345678@pbx;transport=udp>', "81312345678"],
      ["sip:+81312345678;isub=12@pbx", "81312345678"],
    ];
    for (const [dialled, e164] of cases) assert.equal(classify(dialled, "JP").e164, e164, dialled);
  });

  test("spaces, dashes, dots and parentheses are ignored", () => {
    for (const dialled of ["+81 (3) 1234.5678", "  +81 3 1234 5678  ", "(03) 1234-5678", "03.1234.5678"]) {
      assert.equal(classify(dialled, "JP").e164, "81312345678", dialled);
    }
  });
});

describe("non-geographic and satellite codes", () => {
  test("region 001, and the risk list matches them by longest prefix", () => {
    const iridium = classify("+881612345678", "JP");
    assert.equal(iridium.country, "001");
    assert.equal(iridium.countryCallingCode, "881");
    assert.equal(iridium.international, true);
    assert.equal(iridium.risk?.prefix, "8816");
    assert.equal(iridium.rate?.perCall, 100);

    const inmarsat = classify("+870 773 123 456", "JP");
    assert.equal(inmarsat.country, "001");
    assert.equal(inmarsat.risk?.prefix, "870");

    const thuraya = classify("010 882 16 1234 5678", "JP");
    assert.equal(thuraya.country, "001");
    assert.equal(thuraya.countryCallingCode, "882");
    assert.equal(thuraya.risk?.prefix, "882");

    const networks = classify("+883 5100 123456", "US");
    assert.equal(networks.country, "001");
    assert.equal(networks.risk?.prefix, "883");
  });
});

describe("refusals", () => {
  test("empty and blank", () => {
    assert.equal(refuse("").code, "EMPTY");
    assert.equal(refuse("   ").code, "EMPTY");
  });

  test("letters, feature codes and stray characters", () => {
    for (const dialled of [
      "abc",
      "03-1234-ABCD",
      "1-800-FLOWERS",
      "*67 0312345678",
      "#31#0312345678",
      "++81312345678",
      "81+312345678",
    ]) {
      assert.equal(refuse(dialled).code, "NOT_A_NUMBER", dialled);
    }
    assert.match(refuse("03-1234-ABCD").message, /"A"/);
  });

  test("URIs without a number", () => {
    assert.equal(refuse("sip:@host").code, "NOT_A_NUMBER");
    assert.equal(refuse("sip:alice@example.com").code, "NOT_A_NUMBER");
    assert.equal(refuse("mailto:a@example.com").code, "NOT_A_NUMBER");
    assert.equal(refuse("+").code, "NOT_A_NUMBER");
    assert.equal(refuse("( - )").code, "NOT_A_NUMBER");
  });

  test("too long", () => {
    assert.equal(refuse("1".repeat(25)).code, "TOO_LONG");
    assert.equal(refuse("+8131234567890123").code, "TOO_LONG");
    assert.equal(refuse("x".repeat(10_000)).code, "TOO_LONG");
  });

  test("too short", () => {
    assert.equal(refuse("110").code, "TOO_SHORT");
    assert.equal(refuse("+2327612").code, "TOO_SHORT");
    assert.equal(refuse("010").code, "TOO_SHORT");
  });

  test("unassigned country codes", () => {
    assert.equal(refuse("+999 1234 5678").code, "UNKNOWN_COUNTRY_CODE");
    assert.equal(refuse("010 999 1234 5678").code, "UNKNOWN_COUNTRY_CODE");
  });

  test("an unknown account country can only dial international forms", () => {
    assert.equal(refuse("0312345678", "XX").code, "UNKNOWN_COUNTRY_CODE");
    const info = classify("+81312345678", "XX");
    assert.equal(info.international, true);
    assert.equal(classify("00 81 3 1234 5678", "XX").e164, "81312345678");
  });
});

describe("properties", () => {
  const accounts = fc.record({
    country: fc.oneof(
      fc.constantFrom("JP", "US", "GB", "DE", "CA", "AU", "BR", "XX", ""),
      fc.string({ maxLength: 3 }),
    ),
    outsideLinePrefix: fc.option(fc.oneof(fc.constantFrom("0", "9", "00", ""), fc.string({ maxLength: 3 })), {
      nil: undefined,
    }),
  });

  test("classifyNumber never throws and only answers digits", () => {
    const dialStrings = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.stringMatching(/^[+]?[0-9 ().-]{0,30}$/),
      fc
        .tuple(
          fc.constantFrom("tel:", "sip:", "sips:", "<sip:", "SIP:"),
          fc.stringMatching(/^[+0-9;@=a-z.-]{0,30}$/),
        )
        .map(([scheme, rest]) => scheme + rest),
    );
    fc.assert(
      fc.property(dialStrings, accounts, (dialled, ctx) => {
        const result = classifyNumber(dialled, ctx, data);
        if (result.ok) {
          assert.match(result.value.e164, /^[1-9][0-9]{3,14}$/);
          assert.equal(result.value.input, dialled);
        } else {
          assert.ok(result.error.message.length > 0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  // Valid numbers from every region: the example mobile number, with its last digits varied while the
  // result stays valid.
  const validE164 = fc
    .tuple(
      fc.constantFrom(...getCountries()),
      fc.integer({ min: 0, max: 999 }),
      fc.integer({ min: 1, max: 3 }),
    )
    .map(([country, tail, width]) => {
      const example = getExampleNumber(country, examples)?.number.slice(1);
      if (example === undefined) return undefined;
      const varied = example.slice(0, -width) + String(tail % 10 ** width).padStart(width, "0");
      return isValidPhoneNumber("+" + varied) ? varied : example;
    })
    .filter((digits): digits is string => digits !== undefined);

  test("a valid number in national format, dialled at home, reads as its E.164 form", () => {
    const homes = [
      "JP",
      "US",
      "CA",
      "JM",
      "GB",
      "DE",
      "FR",
      "IT",
      "ES",
      "NL",
      "KR",
      "CN",
      "AU",
      "SL",
      "BR",
      "IN",
    ];
    fc.assert(
      fc.property(fc.constantFrom(...homes), fc.integer({ min: 0, max: 999 }), (country, tail) => {
        const example = getExampleNumber(country as CountryCode, examples);
        assert.ok(example !== undefined, country);
        const varied = example.number.slice(0, -3) + String(tail).padStart(3, "0");
        const number = isValidPhoneNumber(varied) ? parsePhoneNumber(varied) : example;
        const national = classify(number.formatNational(), country);
        const international = classify(number.number, country);
        assert.equal(national.e164, number.number.slice(1), `${country} ${number.formatNational()}`);
        assert.deepEqual({ ...national, input: "" }, { ...international, input: "" });
      }),
      { numRuns: 500 },
    );
  });

  const layouts = fc.constantFrom(
    (d: string) => "+" + d,
    (d: string) => `+${d.slice(0, 2)} ${d.slice(2, 5)}-${d.slice(5)}`,
    (d: string) => `tel:+${d}`,
    (d: string) => `sip:+${d}@gw.example;user=phone`,
    (d: string) => `(+${d.slice(0, 3)}) ${d.slice(3)}`,
  );

  test("for a valid E.164 number, e164 is its digits whatever the account", () => {
    fc.assert(
      fc.property(validE164, layouts, accounts, (digits, layout, ctx) => {
        const result = classifyNumber(layout(digits), ctx, data);
        if (!result.ok) assert.fail(`+${digits}: ${result.error.message}`);
        assert.equal(result.value.e164, digits);
        assert.equal(result.value.valid, true);
      }),
      { numRuns: 1000 },
    );
  });
});
