import assert from "node:assert/strict";
import { test } from "node:test";
import { JsonObjectSplitter } from "./json-objects.js";

type Seen = { line: number; json?: unknown; error?: string };

function split(text: string, maxChars = 10_000): Seen[] {
  const seen: Seen[] = [];
  const s = new JsonObjectSplitter(
    (doc, line) => seen.push({ line, json: JSON.parse(doc) }),
    (line, error) => seen.push({ line, error }),
    maxChars,
  );
  text.split("\n").forEach((l, i) => {
    s.push(l, i + 1);
  });
  s.finish();
  return seen;
}

test("JSON lines", () => {
  assert.deepEqual(split('{"a":1}\n\n{"a":2}\n'), [
    { line: 1, json: { a: 1 } },
    { line: 3, json: { a: 2 } },
  ]);
});

test("pretty-printed objects, one after another", () => {
  assert.deepEqual(split('{\n  "a": {\n    "b": [1, 2]\n  }\n}\n{\n"c": 3}'), [
    { line: 1, json: { a: { b: [1, 2] } } },
    { line: 6, json: { c: 3 } },
  ]);
});

test("a top-level array is read one element at a time", () => {
  assert.deepEqual(split('[\n  {"a": 1},\n  {"a": 2}\n]\n[{"a":3},{"a":4}]'), [
    { line: 2, json: { a: 1 } },
    { line: 3, json: { a: 2 } },
    { line: 5, json: { a: 3 } },
    { line: 5, json: { a: 4 } },
  ]);
});

test("braces and escaped quotes inside strings do not count", () => {
  assert.deepEqual(split('{"a":"}{\\"}","b":"\\\\"}'), [{ line: 1, json: { a: '}{"}', b: "\\" } }]);
});

test("text outside objects, oversized and unclosed objects are errors, and reading goes on", () => {
  const big = `{"a":"${"x".repeat(200)}"}`;
  assert.deepEqual(split(`garbage\n{"ok":1}\n${big}\n{"ok":2}\n{"open":`, 100), [
    { line: 1, error: "expected a JSON object" },
    { line: 2, json: { ok: 1 } },
    { line: 3, error: "JSON object is larger than 100 characters" },
    { line: 4, json: { ok: 2 } },
    { line: 5, error: "JSON object is not closed at the end of the input" },
  ]);
});
