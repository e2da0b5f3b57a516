import assert from "node:assert/strict";
import { test } from "node:test";
import {
  epochMicrosToMs,
  epochSecondsToMs,
  parseCount,
  parseDecimal,
  parseGoDuration,
  stableCallId,
  urlDecode,
  wholeSeconds,
} from "./fields.js";

test("counts and decimals refuse anything but digits", () => {
  assert.equal(parseCount("120"), 120);
  assert.equal(parseCount("1709287200125000"), 1_709_287_200_125_000);
  for (const bad of ["", "-5", "1.5", "12abc", " 1", "+1"]) assert.equal(parseCount(bad), -1, bad);
  assert.equal(parseDecimal("120.360"), 120.36);
  assert.equal(parseDecimal(".5"), 0.5);
  for (const bad of ["", ".", "1.2.3", "-1", "1e3"]) assert.ok(Number.isNaN(parseDecimal(bad)), bad);
  assert.equal(wholeSeconds("120.5"), 121);
  assert.equal(wholeSeconds("x"), -1);
});

test("epochs", () => {
  assert.equal(epochSecondsToMs("1705312800"), 1_705_312_800_000);
  assert.equal(epochSecondsToMs("1705312800.123456"), 1_705_312_800_123);
  assert.equal(epochMicrosToMs("1709287206250000"), 1_709_287_206_250);
  assert.ok(Number.isNaN(epochSecondsToMs("")));
});

test("URL decoding as FreeSWITCH encodes, never throwing", () => {
  assert.equal(urlDecode("%2B23276123456"), "+23276123456");
  assert.equal(urlDecode("Tanaka%20Taro"), "Tanaka Taro");
  assert.equal(urlDecode("%E5%B1%B1%E7%94%B0"), "山田");
  assert.equal(urlDecode("a+b"), "a+b");
  assert.equal(urlDecode("100%"), "100%");
  assert.equal(urlDecode("%ZZ%2B1"), "%ZZ+1");
  assert.equal(urlDecode("%FF%2B1"), "\ufffd+1");
});

test("Go durations", () => {
  assert.equal(parseGoDuration("30s"), 30e9);
  assert.equal(parseGoDuration("1m30s"), 90e9);
  assert.equal(parseGoDuration("2h0m0.5s"), 7200.5e9);
  assert.equal(parseGoDuration("250ms"), 250e6);
  assert.equal(parseGoDuration("1.5µs"), 1500);
  assert.equal(parseGoDuration("0"), 0);
  for (const bad of ["", "30", "-1s", "ten minutes", "1x", "s"])
    assert.ok(Number.isNaN(parseGoDuration(bad)), bad);
});

test("stable call ids are stable and tell rows apart", () => {
  const a = stableCallId(["acct", "1001", "0046", "2024-03-01 09:00:00"]);
  assert.match(a, /^cdr-[0-9a-f]{16}$/);
  assert.equal(stableCallId(["acct", "1001", "0046", "2024-03-01 09:00:00"]), a);
  assert.notEqual(stableCallId(["acct", "1001", "0046", "2024-03-01 09:00:01"]), a);
  assert.notEqual(stableCallId(["acct1", "001", "0046", "2024-03-01 09:00:00"]), a);
  const ids = new Set<string>();
  for (let i = 0; i < 100_000; i++) ids.add(stableCallId(["x", String(i)]));
  assert.equal(ids.size, 100_000);
});
