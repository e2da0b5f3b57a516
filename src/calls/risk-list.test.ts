import assert from "node:assert/strict";
import { test } from "node:test";
import type { RiskEntry } from "./number-info.js";
import { buildRiskTable, lookupRisk, parseRiskFile } from "./risk-list.js";

const entry = (prefix: string, level: RiskEntry["level"] = "high"): RiskEntry => ({
  prefix,
  level,
  reason: `r${prefix}`,
});

test("lookupRisk takes the longest matching prefix", () => {
  const table = buildRiskTable([entry("881"), entry("8816"), entry("88213", "elevated"), entry("232")]);
  assert.equal(lookupRisk(table, "881612345678")?.prefix, "8816");
  assert.equal(lookupRisk(table, "881812345678")?.prefix, "881");
  assert.equal(lookupRisk(table, "8821312345")?.prefix, "88213");
  assert.equal(lookupRisk(table, "8821412345"), undefined, "882 itself is not listed");
  assert.equal(lookupRisk(table, "23276123456")?.prefix, "232");
  assert.equal(lookupRisk(table, "81312345678"), undefined);
  assert.equal(lookupRisk(table, "88"), undefined, "shorter than every prefix");
  assert.equal(lookupRisk(table, "881")?.prefix, "881", "exactly the prefix");
  assert.equal(lookupRisk(table, ""), undefined);
});

test("lookupRisk stops at the first character that is not a digit", () => {
  const table = buildRiskTable([entry("23"), entry("232")]);
  assert.equal(lookupRisk(table, "23x2")?.prefix, "23");
  assert.equal(lookupRisk(table, "+232"), undefined);
});

test("an empty table matches nothing; a repeated prefix keeps its last entry", () => {
  assert.equal(lookupRisk(buildRiskTable([]), "232"), undefined);
  const table = buildRiskTable([entry("232", "high"), entry("232", "elevated")]);
  assert.equal(lookupRisk(table, "23276123456")?.level, "elevated");
});

test("buildRiskTable rejects a prefix with a non-digit, a bug in the caller", () => {
  assert.throws(() => buildRiskTable([entry("23a")]), RangeError);
});

test("parseRiskFile reads entries", () => {
  const result = parseRiskFile(
    [
      "# comment",
      "destinations:",
      '  - prefix: "232"',
      "    level: high",
      "    reason: Sierra Leone",
      "",
    ].join("\n"),
    "risk.yaml",
  );
  assert.deepEqual(result, { ok: true, value: [{ prefix: "232", level: "high", reason: "Sierra Leone" }] });
});

function problem(text: string): { message: string; line: number | undefined; entry: number | undefined } {
  const result = parseRiskFile(text, "rules/risk.yaml");
  if (result.ok) assert.fail("accepted a bad file");
  assert.equal(result.error.source, "rules/risk.yaml");
  assert.ok(result.error.message.startsWith("rules/risk.yaml"), result.error.message);
  return result.error;
}

const file = (...entries: string[]) => ["destinations:", ...entries].join("\n");

test("parseRiskFile names the file, the line and the entry of a bad value", () => {
  const bad = problem(
    file(
      '  - prefix: "232"',
      "    level: high",
      "    reason: ok",
      "  - prefix: 237",
      "    level: high",
      "    reason: x",
    ),
  );
  assert.equal(bad.entry, 1);
  assert.equal(bad.line, 5);
  assert.match(bad.message, /line 5/);
  assert.match(bad.message, /destinations\[1\]\.prefix/);
  assert.match(bad.message, /quoted string/);
});

test("parseRiskFile rejects bad levels, missing reasons, unknown keys and leading zeros", () => {
  assert.match(
    problem(file('  - prefix: "232"', "    level: severe", "    reason: x")).message,
    /"high" or "elevated"/,
  );
  const missing = problem(file('  - prefix: "232"', "    level: high"));
  assert.match(missing.message, /destinations\[0\]\.reason: is required/);
  assert.equal(missing.line, 2);
  assert.match(
    problem(file('  - prefix: "232"', "    level: high", "    reason: x", "    note: y")).message,
    /note/,
  );
  assert.match(
    problem(file('  - prefix: "0232"', "    level: high", "    reason: x")).message,
    /no leading 0/,
  );
  assert.match(problem(file('  - prefix: ""', "    level: high", "    reason: x")).message, /1 to 15 digits/);
});

test("parseRiskFile rejects a prefix listed twice, pointing at the second", () => {
  const twice = problem(
    file(
      '  - prefix: "232"',
      "    level: high",
      "    reason: a",
      '  - prefix: "232"',
      "    level: elevated",
      "    reason: b",
    ),
  );
  assert.equal(twice.entry, 1);
  assert.equal(twice.line, 5);
  assert.match(twice.message, /already listed at entry \[0\]/);
});

test("parseRiskFile reports YAML syntax errors and empty files", () => {
  const syntax = problem('destinations:\n  - prefix: "232\n    level: high\n');
  assert.match(syntax.message, /not valid YAML/);
  assert.ok(syntax.line !== undefined);
  assert.match(problem("").message, /destinations/);
  assert.match(problem("destinations: []").message, /at least one/);
  assert.match(problem("destinations: {}").message, /list/);
});
