/**
 * Whatever a file holds, no reader throws: every line ends up a record, a rejection, or nothing (a
 * syslog line that is not an ACC line, a header), and every record keeps CallRecord's promises.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { fixture } from "../../../../test/support/paths.js";
import type { CallRecord } from "../../../core/call-events.js";
import {
  type CdrFormat,
  type CdrReaderOptions,
  cdrFormats,
  createCdrLineParser,
  resolveCdrOptions,
} from "./index.js";
import type { CdrItem } from "./types.js";

const options: Record<CdrFormat, CdrReaderOptions> = {
  "asterisk-csv": { timeZone: "America/New_York" },
  "freeswitch-csv": { timeZone: "Europe/London" },
  "freeswitch-json": {},
  "kamailio-acc": { kamailio: { maxOpenCalls: 3, horizonSeconds: 60 } },
  "cgrates-json": {},
  csv: {
    columnMap: {
      callId: "call_id",
      account: "customer",
      to: "called",
      start: "started_at",
      answer: "answered_at",
      end: "ended_at",
      timeFormat: "iso",
      header: true,
    },
    timeZone: "Australia/Lord_Howe",
  },
};

/** Real files of each format: mutated, they make inputs that get far into the parsers. */
const seeds: Record<CdrFormat, string[]> = {
  "asterisk-csv": [
    "asterisk/Master-16.csv",
    "asterisk/Master-21.csv",
    "asterisk/Master-dst.csv",
    "asterisk/Master-bad.csv",
  ],
  "freeswitch-csv": ["freeswitch/Master-example.csv"],
  "freeswitch-json": ["freeswitch/cdr-pretty.json", "freeswitch/cdr.jsonl"],
  "kamailio-acc": ["kamailio/acc-syslog.log", "kamailio/acc.csv", "kamailio/acc_cdrs.csv"],
  "cgrates-json": ["cgrates/cdrs.json", "cgrates/cdrs.jsonl"],
  csv: ["csv/calls.csv"],
};
const seedLines = (format: CdrFormat): string[][] =>
  seeds[format].map((f) => readFileSync(fixture("cdr", ...f.split("/")), "utf8").split("\n"));

/** Pieces real CDR lines are made of, so that random lines get far into the parsers. */
const piece = fc.oneof(
  fc.constantFrom(
    '"',
    '""',
    ",",
    ";",
    "=",
    "{",
    "}",
    "[",
    "]",
    ":",
    "\\",
    " ",
    "%",
    "%2B",
    "0",
    "1709287200",
    "1709287200125000",
    "2024-03-10 02:30:00",
    "2024-11-03 01:30:00",
    "2024-02-30 00:00:00",
    "ANSWERED",
    "NO ANSWER",
    "ACC: transaction answered: ",
    "ACC: call missed: ",
    "timestamp=",
    "method=INVITE",
    "method=BYE",
    "call_id=x",
    "code=200",
    "code=486",
    "src_user=1",
    "dst_ouser=2",
    '"variables":',
    '"start_epoch":"1709287200"',
    '"SetupTime":"2024-03-01T10:00:00Z"',
    '"Usage":"1m"',
    "start_time,end_time,duration",
    "method,callid,sip_code,time",
    "a,b,c,d,e",
    "\u00e7\u201d\u00b0",
    "\ufffd",
    "田中",
  ),
  fc.string({ maxLength: 8 }),
);
const line = fc.array(piece, { maxLength: 30 }).map((parts) => parts.join(""));

function checkRecord(r: CallRecord): void {
  assert.ok(r.callId !== "" && r.account !== "" && r.to !== "");
  assert.ok(Number.isFinite(r.start) && Number.isFinite(r.end) && r.end >= r.start);
  assert.ok(Number.isInteger(r.billsec) && r.billsec >= 0);
  if (r.answer !== undefined) assert.ok(r.answer >= r.start && r.answer <= r.end);
  assert.equal(r.answer !== undefined, r.disposition === "ANSWERED");
}

/** Inserts, deletes, replaces or cuts at a position of one line. */
const edit = fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 3 }), piece);

function mutate(file: string[], edits: [number, number, number, string][]): string[] {
  const lines = [...file];
  for (const [which, at, op, text] of edits) {
    const i = which % lines.length;
    const l = lines[i] ?? "";
    const p = at % (l.length + 1);
    if (op === 0) lines[i] = l.slice(0, p) + text + l.slice(p);
    else if (op === 1) lines[i] = l.slice(0, p) + l.slice(p + 1 + (at % 5));
    else if (op === 2) lines[i] = l.slice(0, p) + text + l.slice(p + 1);
    else lines[i] = l.slice(0, p);
  }
  return lines;
}

function run(format: CdrFormat, lines: string[]): { records: number } {
  const parser = createCdrLineParser(format, resolveCdrOptions(format, options[format]), "fuzz");
  const out: CdrItem[] = [];
  lines.forEach((l, i) => {
    parser.push(l, i + 1, out);
  });
  parser.finish(out);
  let records = 0;
  for (const item of out) {
    if (item.type === "record") {
      checkRecord(item.record);
      records++;
    } else {
      assert.ok(
        item.rejected.reason.length > 0 && item.rejected.line >= 1 && item.rejected.line <= lines.length,
      );
    }
  }
  return { records };
}

for (const format of cdrFormats) {
  test(`${format}: no line makes the parser throw`, () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        run(format, lines);
      }),
      { numRuns: 500 },
    );
  });

  test(`${format}: mutated real files never make it throw, and records stay valid`, () => {
    const files = seedLines(format);
    let records = 0;
    fc.assert(
      fc.property(fc.constantFrom(...files), fc.array(edit, { maxLength: 6 }), (file, edits) => {
        records += run(format, mutate(file, edits)).records;
      }),
      { numRuns: 500 },
    );
    assert.ok(records > 0, "the mutated files should still yield some records");
  });
}
