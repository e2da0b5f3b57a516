import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { fixture } from "../../../../test/support/paths.js";
import { parseAnySeclog, SECLOG_FORMATS } from "./formats.js";
import type { SipLineResult } from "./types.js";

const parsers = { ...SECLOG_FORMATS, auto: parseAnySeclog };
const fixtureLines = readdirSync(fixture("seclog"))
  .filter((f) => f.endsWith(".log"))
  .flatMap((f) => readFileSync(fixture("seclog", f), "utf8").split("\n"))
  .filter((l) => l !== "");

function wellFormed(r: SipLineResult): boolean {
  if (r.type === "skip") return true;
  if (r.type === "rejected") return typeof r.reason === "string" && r.reason.length > 0;
  const e = r.event;
  return Number.isFinite(e.at) && typeof e.source.ip === "string" && e.source.ip.length > 0;
}

/** Real lines cut, spliced and sprinkled with the characters parsers split on. */
const mutated = fc
  .tuple(
    fc.constantFrom(...fixtureLines),
    fc.nat(),
    fc.nat(),
    fc.string({
      unit: fc.constantFrom(
        "'",
        '"',
        ",",
        "=",
        "[",
        "]",
        "(",
        ")",
        ":",
        " ",
        "/",
        "@",
        "\u001b",
        "\r",
        "<",
        ">",
      ),
    }),
  )
  .map(([line, a, b, noise]) => {
    const i = a % (line.length + 1);
    const j = b % (line.length + 1);
    return line.slice(0, Math.min(i, j)) + noise + line.slice(Math.max(i, j));
  });

describe("security-log parsers never throw", () => {
  for (const [name, parse] of Object.entries(parsers)) {
    it(`${name}: arbitrary text`, () => {
      fc.assert(
        fc.property(fc.string({ unit: "binary", maxLength: 400 }), (s) =>
          wellFormed(parse(s, { source: "p", line: 1, year: 2024 })),
        ),
        { numRuns: 500 },
      );
    });
    it(`${name}: mutated real lines`, () => {
      fc.assert(
        fc.property(mutated, fc.option(fc.constantFrom("UTC", "Asia/Tokyo", "No/Such_Zone")), (s, tz) =>
          wellFormed(parse(s, { source: "p", line: 1, year: 2024, timeZone: tz ?? undefined })),
        ),
        { numRuns: 1000 },
      );
    });
  }

  it("auto gives the same answer as the specific parser on every fixture line that has an event", () => {
    let events = 0;
    for (const line of fixtureLines) {
      const ctx = { source: "p", line: 1, year: 2024 };
      const auto = parseAnySeclog(line, ctx);
      if (auto.type !== "event") continue;
      events++;
      const specific = Object.values(SECLOG_FORMATS)
        .map((p) => p(line, ctx))
        .filter((r) => r.type === "event");
      assert.deepEqual(specific, [auto], line);
    }
    assert.ok(events > 40, `only ${events} fixture lines gave events`);
  });
});
