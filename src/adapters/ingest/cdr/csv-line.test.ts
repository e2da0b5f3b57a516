import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { CSV_UNTERMINATED, CsvRecordSplitter, formatCsvLine, parseCsvLine, skipMask } from "./csv-line.js";

const parse = (text: string, delimiter = ",", skip?: Uint8Array): string[] | typeof CSV_UNTERMINATED => {
  const out: string[] = [];
  const n = parseCsvLine(text, out, delimiter, skip);
  return n === CSV_UNTERMINATED ? n : out.slice(0, n);
};

test("plain, quoted and empty fields", () => {
  assert.deepEqual(parse('a,"b",,"",c'), ["a", "b", "", "", "c"]);
  assert.deepEqual(parse(""), [""]);
  assert.deepEqual(parse(","), ["", ""]);
  assert.deepEqual(parse('"x",'), ["x", ""]);
});

test("doubled quotes and delimiters inside quotes (Asterisk clid)", () => {
  assert.deepEqual(parse('"""Bob"" <100>","Dial","SIP/x,60"'), ['"Bob" <100>', "Dial", "SIP/x,60"]);
  assert.deepEqual(parse('""""'), ['"']);
});

test("an unclosed quote is reported, not guessed", () => {
  assert.equal(parse('"abc,def'), CSV_UNTERMINATED);
  assert.equal(parse('a,"b""'), CSV_UNTERMINATED);
});

test("lenient: stray quotes inside quoted fields (FreeSWITCH does not escape them)", () => {
  assert.deepEqual(parse('"Bob "The Builder" Smith","1001"'), ['Bob "The Builder" Smith', "1001"]);
  assert.deepEqual(parse('ab"c,d'), ['ab"c', "d"]);
});

test("lenient: spaces around quoted fields", () => {
  assert.deepEqual(parse('"a", "b" ,"c"'), ["a", "b", "c"]);
  assert.deepEqual(parse("a, b"), ["a", " b"]);
});

test("other delimiters", () => {
  assert.deepEqual(parse('a;"b;c";d', ";"), ["a", "b;c", "d"]);
  assert.deepEqual(parse("a\tb\t\tc", "\t"), ["a", "b", "", "c"]);
});

test("skipped columns are scanned but not copied", () => {
  const skip = skipMask(8, [0, 2]);
  assert.deepEqual(parse('a,"b,""x""",c,d', ",", skip), ["a", "", "c", ""]);
});

test("property: formatCsvLine round-trips arbitrary fields", () => {
  const field = fc.oneof(
    fc.string(),
    fc.string({ unit: fc.constantFrom('"', ",", " ", "a", "\n", "\r", ";", "\t") }),
    fc.string({ unit: "grapheme" }),
  );
  fc.assert(
    fc.property(
      fc.array(field, { minLength: 1, maxLength: 12 }),
      fc.constantFrom(",", ";", "\t"),
      (fields, d) => {
        assert.deepEqual(parse(formatCsvLine(fields, d), d), fields);
      },
    ),
    { numRuns: 2000 },
  );
});

test("property: parseCsvLine never throws and counts at least one field", () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('"', ",", " ", "a", "\n") }), (text) => {
      const out: string[] = [];
      const n = parseCsvLine(text, out);
      assert.ok(n === CSV_UNTERMINATED || n >= 1);
    }),
    { numRuns: 3000 },
  );
});

type Seen = { line: number; fields?: string[]; broken?: string };

function split(lines: string[], plausible?: (n: number) => boolean): Seen[] {
  const seen: Seen[] = [];
  const s = new CsvRecordSplitter(
    ",",
    (f, n, line) => seen.push({ line, fields: f.slice(0, n) }),
    (line, text) => seen.push({ line, broken: text }),
    plausible,
  );
  lines.forEach((l, i) => {
    s.push(l, i + 1);
  });
  s.finish();
  return seen;
}

test("a quoted field holding a line break joins two lines into one record", () => {
  assert.deepEqual(split(['a,"multi', 'line",b', "c,d"]), [
    { line: 1, fields: ["a", "multi\nline", "b"] },
    { line: 3, fields: ["c", "d"] },
  ]);
});

test("a quote never closed gives up on its line and reads the next lines again", () => {
  const lines = ['1,"broken', ...Array.from({ length: 9 }, (_, i) => `${i + 2},ok`)];
  const seen = split(lines);
  assert.deepEqual(seen[0], { line: 1, broken: '1,"broken' });
  assert.equal(seen.length, 10);
  assert.deepEqual(seen[9], { line: 10, fields: ["10", "ok"] });
});

test("an implausible joined record gives up at once", () => {
  const seen = split(['1,"broken', 'x",2,3,4'], (n) => n === 3);
  assert.deepEqual(seen, [
    { line: 1, broken: '1,"broken' },
    { line: 2, fields: ['x"', "2", "3", "4"] },
  ]);
});

test("an unclosed quote at the end of input is reported", () => {
  assert.deepEqual(split(["a,b", '"open']), [
    { line: 1, fields: ["a", "b"] },
    { line: 2, broken: '"open' },
  ]);
});
