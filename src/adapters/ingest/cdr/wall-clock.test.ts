import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { daysFromCivil, parseIsoInstant, parseWallClock, ZoneClock } from "./wall-clock.js";

const utc = new ZoneClock("UTC");

test("wall-clock strings", () => {
  assert.equal(parseWallClock("2024-03-01 09:00:05"), Date.UTC(2024, 2, 1, 9, 0, 5));
  assert.equal(parseWallClock("2024/03/01 09:00"), Date.UTC(2024, 2, 1, 9, 0));
  assert.equal(parseWallClock("2024-03-01T09:00:05.123456"), Date.UTC(2024, 2, 1, 9, 0, 5, 123));
  assert.equal(parseWallClock("2024-02-29 00:00:00"), Date.UTC(2024, 1, 29));
  for (const bad of [
    "2023-02-29 00:00:00",
    "2024-13-01 00:00:00",
    "2024-03-01 24:00:00",
    "2024-03-01 09:00:5",
    "",
    "yesterday",
  ]) {
    assert.ok(Number.isNaN(parseWallClock(bad)), bad);
  }
  assert.ok(Number.isNaN(parseWallClock("2024-03-01 09:00:05 ")));
});

test("daysFromCivil agrees with Date.UTC", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 9999 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 28 }),
      (y, m, d) => {
        const date = new Date(0);
        date.setUTCFullYear(y, m - 1, d);
        assert.equal(daysFromCivil(y, m, d) * 86_400_000, date.getTime());
      },
    ),
  );
});

test("ISO 8601 instants, with and without offsets", () => {
  const tokyo = new ZoneClock("Asia/Tokyo");
  assert.equal(parseIsoInstant("2024-03-01T10:00:00Z", tokyo), Date.UTC(2024, 2, 1, 10));
  assert.equal(parseIsoInstant("2024-03-01T19:00:06.25+09:00", utc), Date.UTC(2024, 2, 1, 10, 0, 6, 250));
  assert.equal(
    parseIsoInstant("2024-03-01T10:00:00.123456789-0530", utc),
    Date.UTC(2024, 2, 1, 15, 30, 0, 123),
  );
  assert.equal(parseIsoInstant("2024-03-01 10:00:00 +09", utc), Date.UTC(2024, 2, 1, 1));
  assert.equal(parseIsoInstant("2024-03-01 10:00:00", tokyo), Date.UTC(2024, 2, 1, 1));
  for (const bad of ["2024-03-01T10:00:00+9", "2024-03-01T10:00:00Zulu", "2024-03-01"]) {
    assert.ok(Number.isNaN(parseIsoInstant(bad, utc)), bad);
  }
});

test("Tokyo has no DST", () => {
  const c = new ZoneClock("Asia/Tokyo");
  assert.equal(c.toEpoch(Date.UTC(2024, 6, 1, 9)), Date.UTC(2024, 6, 1, 0));
  assert.equal(c.toEpoch(Date.UTC(2024, 0, 1, 0)), Date.UTC(2023, 11, 31, 15));
});

test("New York: spring gap moves forward, autumn repeat picks earlier (or later on request)", () => {
  const c = new ZoneClock("America/New_York");
  assert.equal(c.toEpoch(Date.UTC(2024, 2, 10, 1, 59, 59)), Date.UTC(2024, 2, 10, 6, 59, 59));
  assert.equal(c.toEpoch(Date.UTC(2024, 2, 10, 3, 0, 0)), Date.UTC(2024, 2, 10, 7, 0, 0));
  // 02:30 does not exist that night; clocks read it as 03:30 EDT.
  assert.equal(c.toEpoch(Date.UTC(2024, 2, 10, 2, 30)), Date.UTC(2024, 2, 10, 7, 30));
  assert.equal(c.toEpoch(Date.UTC(2024, 10, 3, 1, 30)), Date.UTC(2024, 10, 3, 5, 30));
  assert.equal(c.toEpochLater(Date.UTC(2024, 10, 3, 1, 30)), Date.UTC(2024, 10, 3, 6, 30));
  assert.equal(c.toEpoch(Date.UTC(2024, 10, 3, 2, 0)), Date.UTC(2024, 10, 3, 7, 0));
});

test("London (east of its DST change in UTC terms) repeats 01:00-02:00 and picks the earlier", () => {
  const c = new ZoneClock("Europe/London");
  assert.equal(c.toEpoch(Date.UTC(2024, 9, 27, 1, 30)), Date.UTC(2024, 9, 27, 0, 30));
  assert.equal(c.toEpochLater(Date.UTC(2024, 9, 27, 1, 30)), Date.UTC(2024, 9, 27, 1, 30));
});

test("Lord Howe changes by half an hour", () => {
  const c = new ZoneClock("Australia/Lord_Howe");
  // 2024-04-07 02:00 +11 becomes 01:30 +10:30; 01:45 happens twice.
  assert.equal(c.toEpoch(Date.UTC(2024, 3, 7, 1, 45)), Date.UTC(2024, 3, 6, 14, 45));
  assert.equal(c.toEpochLater(Date.UTC(2024, 3, 7, 1, 45)), Date.UTC(2024, 3, 6, 15, 15));
});

test("property: toEpoch inverts the zone's own formatting at every instant that is not repeated", () => {
  const zones = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Asia/Kathmandu",
    "America/Santiago",
  ];
  const fmt = new Map(
    zones.map((z) => [
      z,
      new Intl.DateTimeFormat("en-US", {
        timeZone: z,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      }),
    ]),
  );
  const clocks = new Map(zones.map((z) => [z, new ZoneClock(z)]));
  fc.assert(
    fc.property(
      fc.constantFrom(...zones),
      fc.integer({ min: 946_684_800, max: 2_000_000_000 }),
      (zone, sec) => {
        const at = sec * 1000;
        const parts = Object.fromEntries(
          (fmt.get(zone) as Intl.DateTimeFormat).formatToParts(at).map((p) => [p.type, Number(p.value)]),
        );
        const wall = Date.UTC(
          parts.year ?? 0,
          (parts.month ?? 1) - 1,
          parts.day,
          parts.hour,
          parts.minute,
          parts.second,
        );
        const clock = clocks.get(zone) as ZoneClock;
        const early = clock.toEpoch(wall);
        const late = clock.toEpochLater(wall);
        assert.ok(at === early || at === late, `${zone} ${new Date(at).toISOString()}`);
      },
    ),
    { numRuns: 3000 },
  );
});

test("unknown zones are refused", () => {
  assert.throws(() => new ZoneClock("Mars/Olympus"), /unknown time zone/);
});
