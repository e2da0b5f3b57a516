import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseLogTime } from "./log-time.js";

const ctx = { source: "t", line: 1 };
const at = (text: string, extra = {}) => {
  const r = parseLogTime(text, { ...ctx, ...extra });
  return r.ok ? r.at : r.error;
};

describe("log time stamps", () => {
  it("reads ISO times with offsets and fractions", () => {
    assert.equal(at("2024-01-05T03:12:45.123+0900"), Date.parse("2024-01-04T18:12:45.123Z"));
    assert.equal(at("2024-01-05T03:12:45.123456+09:00"), Date.parse("2024-01-04T18:12:45.123Z"));
    assert.equal(at("2024-01-05T03:12:45Z"), Date.parse("2024-01-05T03:12:45Z"));
    assert.equal(at("2024-01-05T03:12:45-0130"), Date.parse("2024-01-05T04:42:45Z"));
  });

  it("reads local times in the given zone, UTC by default, across a DST change", () => {
    assert.equal(at("2024-01-05 03:12:45"), Date.parse("2024-01-05T03:12:45Z"));
    assert.equal(
      at("2024-01-05 03:12:45.5", { timeZone: "Asia/Tokyo" }),
      Date.parse("2024-01-04T18:12:45.500Z"),
    );
    assert.equal(
      at("2024-07-01 12:00:00", { timeZone: "Europe/Berlin" }),
      Date.parse("2024-07-01T10:00:00Z"),
    );
    assert.equal(
      at("2024-01-01 12:00:00", { timeZone: "Europe/Berlin" }),
      Date.parse("2024-01-01T11:00:00Z"),
    );
  });

  it("reads syslog times only with a year", () => {
    assert.equal(at("Jan  5 03:12:45", { year: 2024 }), Date.parse("2024-01-05T03:12:45Z"));
    assert.equal(at("Dec 31 23:59:59.250", { year: 2023 }), Date.parse("2023-12-31T23:59:59.250Z"));
    assert.match(String(at("Jan  5 03:12:45")), /no year/);
    assert.match(String(at("Foo  5 03:12:45", { year: 2024 })), /unknown month/);
    assert.match(String(at("Feb 30 03:12:45", { year: 2024 })), /invalid date/);
  });

  it("reads epoch seconds with microseconds or a decimal fraction", () => {
    assert.equal(at("1704391965-123456"), 1704391965123);
    assert.equal(at("1704391965-000999"), 1704391965000);
    assert.equal(at("1704391965.5"), 1704391965500);
    assert.equal(at("1704391965"), 1704391965000);
  });

  it("rejects everything else", () => {
    for (const bad of [
      "",
      "yesterday",
      "2024-13-01 00:00:00",
      "2024-01-05T25:00:00Z",
      "2024-01-05T03:12:45+2500",
    ]) {
      assert.equal(typeof at(bad), "string", bad);
    }
    assert.match(String(at("2024-01-05 03:12:45", { timeZone: "Nowhere/Town" })), /unknown time zone/);
  });
});
