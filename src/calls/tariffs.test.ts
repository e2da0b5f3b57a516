import assert from "node:assert/strict";
import { test } from "node:test";
import type { Rate } from "./number-info.js";
import { buildTariffTable, lookupRate, parseTariffFile } from "./tariffs.js";

const rate = (prefix: string, perMinute: number): Rate => ({
  prefix,
  perMinute,
  perCall: 0,
  description: prefix,
});

test("lookupRate takes the longest matching prefix and falls back to the catch-all", () => {
  const table = buildTariffTable([
    rate("", 150),
    rate("81", 3),
    rate("8190", 16),
    rate("1", 9),
    rate("1876", 60),
  ]);
  assert.equal(lookupRate(table, "819012345678")?.perMinute, 16);
  assert.equal(lookupRate(table, "81312345678")?.perMinute, 3);
  assert.equal(lookupRate(table, "18765551234")?.perMinute, 60);
  assert.equal(lookupRate(table, "12125551234")?.perMinute, 9);
  assert.equal(lookupRate(table, "23276123456")?.perMinute, 150);
  assert.equal(lookupRate(table, "")?.perMinute, 150);
});

test("without a catch-all, an unlisted destination has no rate", () => {
  const table = buildTariffTable([rate("81", 3)]);
  assert.equal(lookupRate(table, "23276123456"), undefined);
  assert.equal(lookupRate(table, "8"), undefined);
});

test("parseTariffFile reads currency and rates, perCall defaulting to 0", () => {
  const text = [
    "currency: JPY",
    "rates:",
    '  - prefix: ""',
    "    perMinute: 150",
    "    description: other",
    '  - prefix: "870"',
    "    perMinute: 1000",
    "    perCall: 100",
    "    description: Inmarsat",
  ].join("\n");
  const result = parseTariffFile(text, "tariffs.yaml");
  assert.deepEqual(result, {
    ok: true,
    value: {
      currency: "JPY",
      rates: [
        { prefix: "", perMinute: 150, perCall: 0, description: "other" },
        { prefix: "870", perMinute: 1000, perCall: 100, description: "Inmarsat" },
      ],
    },
  });
});

function problem(text: string): { message: string; line: number | undefined; entry: number | undefined } {
  const result = parseTariffFile(text, "rules/tariffs.yaml");
  if (result.ok) assert.fail("accepted a bad file");
  assert.ok(result.error.message.startsWith("rules/tariffs.yaml"), result.error.message);
  return result.error;
}

test("parseTariffFile names the line and entry of a bad price", () => {
  const text = [
    "currency: JPY",
    "rates:",
    '  - prefix: "81"',
    "    perMinute: -3",
    "    description: Japan",
  ].join("\n");
  const bad = problem(text);
  assert.equal(bad.entry, 0);
  assert.equal(bad.line, 4);
  assert.match(bad.message, /rates\[0\]\.perMinute: must not be negative/);
});

test("parseTariffFile rejects bad currencies, string prices, repeated prefixes and unknown keys", () => {
  const rates = ["rates:", '  - prefix: "81"', "    perMinute: 3", "    description: Japan"];
  assert.match(problem(["currency: yen", ...rates].join("\n")).message, /ISO 4217/);
  assert.match(problem(rates.join("\n")).message, /currency: is required/);
  assert.match(
    problem(
      ["currency: JPY", "rates:", '  - prefix: "81"', '    perMinute: "3"', "    description: J"].join("\n"),
    ).message,
    /perMinute: must be a number/,
  );
  const twice = problem(
    ["currency: JPY", ...rates, '  - prefix: "81"', "    perMinute: 4", "    description: again"].join("\n"),
  );
  assert.equal(twice.entry, 1);
  assert.match(twice.message, /already listed/);
  assert.match(problem(["currency: JPY", "rate:", ...rates.slice(1)].join("\n")).message, /rate/);
});
