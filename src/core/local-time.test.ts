import assert from "node:assert/strict";
import { test } from "node:test";
import { calendarBounds, fromLocal, isValidTimeZone, localTime } from "./local-time.js";

test("Tokyo wall clock is UTC+9 with no daylight saving", () => {
  const t = localTime(Date.UTC(2026, 0, 5, 15, 30), "Asia/Tokyo");
  assert.deepEqual(t, { weekday: 2, minuteOfDay: 30, date: "2026-01-06", month: "2026-01" });
});

test("New York changes offset at the DST boundary", () => {
  assert.equal(localTime(Date.UTC(2026, 2, 8, 6, 59), "America/New_York").minuteOfDay, 1 * 60 + 59);
  assert.equal(localTime(Date.UTC(2026, 2, 8, 7, 0), "America/New_York").minuteOfDay, 3 * 60);
});

test("fromLocal inverts localTime", () => {
  const at = fromLocal(2026, 7, 1, 9, 15, 0, "Asia/Tokyo");
  assert.equal(at, Date.UTC(2026, 6, 1, 0, 15));
  const ny = fromLocal(2026, 11, 1, 12, 0, 0, "America/New_York");
  assert.equal(ny, Date.UTC(2026, 10, 1, 17, 0));
});

test("unknown zones are recognised as such", () => {
  assert.equal(isValidTimeZone("Asia/Tokyo"), true);
  assert.equal(isValidTimeZone("Mars/Olympus"), false);
});

test("calendar bounds of a Tokyo day and month", () => {
  const b = calendarBounds(Date.UTC(2026, 1, 28, 20), "Asia/Tokyo"); // 1 March 05:00 in Tokyo
  assert.equal(b.dayStart, Date.UTC(2026, 1, 28, 15));
  assert.equal(b.dayEnd, Date.UTC(2026, 2, 1, 15));
  assert.equal(b.monthStart, Date.UTC(2026, 1, 28, 15));
  assert.equal(b.monthEnd, Date.UTC(2026, 2, 31, 15));
});

test("fromLocal: a repeated hour gives the earlier instant, a skipped one moves forward", () => {
  // London, 27 Oct 2024: 01:30 happens twice (BST then GMT).
  assert.equal(fromLocal(2024, 10, 27, 1, 30, 0, "Europe/London"), Date.UTC(2024, 9, 27, 0, 30));
  // New York, 10 Mar 2024: 02:30 does not exist; it reads as 03:30 EDT.
  assert.equal(fromLocal(2024, 3, 10, 2, 30, 0, "America/New_York"), Date.UTC(2024, 2, 10, 7, 30));
});
