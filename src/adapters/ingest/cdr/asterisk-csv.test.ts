import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fixture } from "../../../../test/support/paths.js";
import type { CallRecord } from "../../../core/call-events.js";
import { cdrCustomColumns } from "./asterisk-csv.js";
import type { CdrReaderOptions } from "./options.js";
import { createCdrReader, createCdrStats, readCdrFile } from "./reader.js";

async function read(file: string, options: CdrReaderOptions = {}) {
  const stats = createCdrStats();
  const records: (CallRecord & { line: number })[] = [];
  const rejected: { line: number; reason: string }[] = [];
  for await (const item of readCdrFile(fixture("cdr", "asterisk", file), "asterisk-csv", options, stats)) {
    if (item.type === "record") records.push({ line: item.pos.line, ...item.record });
    else rejected.push({ line: item.rejected.line, reason: item.rejected.reason });
  }
  return { records, rejected, stats };
}

const jst = (d: number, h: number, m: number, s = 0) => Date.UTC(2024, 2, d, h - 9, m, s);
const tokyo = { timeZone: "Asia/Tokyo" } as const;

test("16 columns: all dispositions, empty answer, doubled quotes, account falls back to src", async () => {
  const { records, rejected, stats } = await read("Master-16.csv", tokyo);
  assert.deepEqual(rejected, []);
  assert.equal(stats.lines, 5);
  const [answered, noAnswer, busy, failed, congestion] = records;
  assert.deepEqual(answered, {
    line: 1,
    callId: answered?.callId,
    account: "1001",
    from: "1001",
    to: "0081312345678",
    start: jst(1, 9, 0),
    answer: jst(1, 9, 0, 5),
    end: jst(1, 9, 2, 5),
    billsec: 120,
    disposition: "ANSWERED",
  });
  assert.match(answered?.callId ?? "", /^cdr-[0-9a-f]{16}$/);
  assert.deepEqual(noAnswer, {
    line: 2,
    callId: noAnswer?.callId,
    account: "acct-7",
    from: "1002",
    to: "00442071234567",
    start: jst(1, 9, 10),
    end: jst(1, 9, 10, 30),
    billsec: 0,
    disposition: "NO ANSWER",
  });
  assert.equal(busy?.disposition, "BUSY");
  assert.equal(failed?.disposition, "FAILED");
  assert.equal(failed?.end, failed?.start);
  assert.equal(congestion?.disposition, "CONGESTION");
  assert.equal(congestion?.account, "1003");
  assert.equal(new Set(records.map((r) => r.callId)).size, 5);
});

test("without uniqueid the call id is a hash of the row, the same on every read", async () => {
  const a = await read("Master-16.csv", tokyo);
  const b = await read("Master-bad.csv", tokyo);
  assert.equal(a.records[0]?.callId, b.records[0]?.callId);
});

test("18 columns: uniqueid is the call id", async () => {
  const { records, rejected } = await read("Master-18.csv", tokyo);
  assert.deepEqual(rejected, []);
  assert.deepEqual(
    records.map((r) => [r.callId, r.account, r.to, r.billsec, r.disposition]),
    [
      ["1709251200.1", "1001", "0081312345678", 120, "ANSWERED"],
      ["1709251800.3", "acct-7", "00442071234567", 0, "NO ANSWER"],
    ],
  );
});

test("21 columns (newcdrcolumns) read the same calls", async () => {
  const eighteen = await read("Master-18.csv", tokyo);
  const twentyOne = await read("Master-21.csv", tokyo);
  assert.deepEqual(twentyOne.rejected, []);
  assert.deepEqual(twentyOne.records, eighteen.records);
});

test("a layout change inside a file is read and reported as a notice", async () => {
  const notices: string[] = [];
  const { records, stats } = await read("Master-mixed.csv", {
    ...tokyo,
    onNotice: (n) => notices.push(n.message),
  });
  assert.equal(records.length, 2);
  assert.equal(records[1]?.callId, "1709251800.3");
  assert.deepEqual(notices, ["Master.csv layout changes here from 16 to 21 columns"]);
  assert.equal(stats.notices, 1);
  assert.equal(stats.firstNotices[0]?.line, 2);
});

test("17 columns hold uniqueid unless told they hold userfield", async () => {
  const row =
    '"","1001","0081312345678","from-internal","","PJSIP/1001-1","","Dial","","2024-03-01 09:00:00",,"2024-03-01 09:00:01",1,0,"NO ANSWER","DOCUMENTATION","X"';
  const readOne = async (options: CdrReaderOptions) => {
    for await (const item of createCdrReader("asterisk-csv", options)([row], "inline")) {
      if (item.type === "record") return item.record.callId;
    }
    return undefined;
  };
  assert.equal(await readOne({}), "X");
  assert.match((await readOne({ asterisk: { singleExtraColumn: "userfield" } })) ?? "", /^cdr-/);
});

test("time zones: the same file read as UTC is nine hours later", async () => {
  const { records } = await read("Master-16.csv", { timeZone: "UTC" });
  assert.equal(records[0]?.start, Date.UTC(2024, 2, 1, 9, 0, 0));
});

test("DST in New York: a call across the spring gap and calls in the repeated autumn hour keep their length", async () => {
  const { records, rejected } = await read("Master-dst.csv", { timeZone: "America/New_York" });
  assert.deepEqual(rejected, []);
  const [spring, acrossRepeat, inRepeat] = records;
  assert.equal(spring?.start, Date.UTC(2024, 2, 10, 6, 59, 30));
  assert.equal(spring?.answer, Date.UTC(2024, 2, 10, 6, 59, 40));
  assert.equal(spring?.end, Date.UTC(2024, 2, 10, 7, 0, 40));
  // 01:50 EDT to 01:10 EST: the end is the second 01:10.
  assert.equal(acrossRepeat?.start, Date.UTC(2024, 10, 3, 5, 50));
  assert.equal(acrossRepeat?.end, Date.UTC(2024, 10, 3, 6, 10));
  // 01:30 to 02:10 lasting 2400 s: the start is the second 01:30.
  assert.equal(inRepeat?.start, Date.UTC(2024, 10, 3, 6, 30));
  assert.equal(inRepeat?.end, Date.UTC(2024, 10, 3, 7, 10));
  assert.equal(inRepeat?.answer, Date.UTC(2024, 10, 3, 6, 30));
});

test("Shift-JIS and mojibake caller names do not break rows, read as UTF-8 or as Shift-JIS", async () => {
  for (const encoding of ["utf-8", "shift_jis"]) {
    const { records, rejected } = await read("Master-sjis.csv", { ...tokyo, encoding });
    assert.deepEqual(rejected, [], encoding);
    assert.deepEqual(
      records.map((r) => [r.callId, r.account, r.to, r.disposition]),
      [
        ["1709251200.1", "1001", "0081312345678", "ANSWERED"],
        ["1709251800.3", "1002", "00442071234567", "NO ANSWER"],
        ["1709252400.5", "1003", "0088213123456", "BUSY"],
      ],
      encoding,
    );
  }
});

test("bad rows are rejected with line and reason, and the rows after them are read", async () => {
  const { records, rejected, stats } = await read("Master-bad.csv", tokyo);
  assert.deepEqual(
    records.map((r) => r.line),
    [1, 7],
  );
  assert.deepEqual(rejected, [
    { line: 2, reason: "expected 16 to 21 columns, found 9" },
    { line: 3, reason: "start time is not YYYY-MM-DD HH:MM:SS" },
    { line: 4, reason: "destination number is empty" },
    { line: 5, reason: "billsec is not a whole number of seconds" },
    { line: 6, reason: "quoted field is never closed" },
  ]);
  assert.deepEqual(stats, {
    lines: 7,
    records: 2,
    rejected: 5,
    rejectedByReason: {
      "expected 16 to 21 columns, found 9": 1,
      "start time is not YYYY-MM-DD HH:MM:SS": 1,
      "destination number is empty": 1,
      "billsec is not a whole number of seconds": 1,
      "quoted field is never closed": 1,
    },
    notices: 0,
    firstNotices: [],
  });
});

test("the account rule is configurable", async () => {
  const byCode = await read("Master-16.csv", { ...tokyo, accountFrom: "accountcode" });
  assert.deepEqual(
    byCode.rejected.map((r) => r.reason),
    ["account is empty", "account is empty"],
  );
  const byCaller = await read("Master-16.csv", { ...tokyo, accountFrom: "caller" });
  assert.deepEqual(
    byCaller.records.map((r) => r.account),
    ["1001", "1002", "1002", "1002", "1003"],
  );
});

const CUSTOM =
  readFileSync(fixture("cdr", "asterisk", "cdr_custom.conf"), "utf8")
    .split("\n")
    .find((l) => l.includes("=>")) ?? "";

test("cdr_custom mapping lines name the columns", () => {
  assert.deepEqual(cdrCustomColumns(CUSTOM), [
    "clid",
    "src",
    "dst",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "accountcode",
    "uniqueid",
    "recvip",
  ]);
  assert.deepEqual(cdrCustomColumns("$" + "{CDR(start,u)},$" + "{CDR(dst)},literal"), ["start", "dst", ""]);
});

test("cdr_custom layouts through a column map", async () => {
  const { records, rejected } = await read("Master-custom.csv", { ...tokyo, asterisk: { custom: CUSTOM } });
  assert.deepEqual(rejected, []);
  assert.deepEqual(records, [
    {
      line: 1,
      callId: "1709251200.1",
      account: "1001",
      from: "1001",
      to: "0081312345678",
      start: jst(1, 9, 0),
      answer: jst(1, 9, 0, 5),
      end: jst(1, 9, 2, 5),
      billsec: 120,
      disposition: "ANSWERED",
      sourceIp: "192.0.2.10",
    },
    {
      line: 2,
      callId: "1709251800.3",
      account: "acct-7",
      from: "1002",
      to: "00442071234567",
      start: jst(1, 9, 10),
      end: jst(1, 9, 10, 30),
      billsec: 0,
      disposition: "NO ANSWER",
      sourceIp: "192.0.2.11",
    },
  ]);
});

test("cdr_custom with epoch times (CDR(start,u)) and a wrong column count", async () => {
  const reader = createCdrReader("asterisk-csv", {
    asterisk: { custom: ["uniqueid", "src", "dst", "start", "answer", "end", "billsec", "disposition"] },
  });
  const items = [];
  for await (const item of reader(
    [
      '"1.1","1001","0046701234567",1705312800.123456,1705312805.000001,1705312865.5,60,"ANSWERED"',
      '"1.2","1001","0046701234567"',
    ],
    "custom",
  )) {
    items.push(item);
  }
  assert.deepEqual(items, [
    {
      type: "record",
      pos: { source: "custom", line: 1 },
      record: {
        callId: "1.1",
        account: "1001",
        from: "1001",
        to: "0046701234567",
        start: 1_705_312_800_123,
        answer: 1_705_312_805_000,
        end: 1_705_312_865_500,
        billsec: 60,
        disposition: "ANSWERED",
      },
    },
    {
      type: "rejected",
      rejected: {
        source: "custom",
        line: 2,
        reason: "expected 8 columns (the cdr_custom layout), found 3",
        raw: '"1.2","1001","0046701234567"',
      },
    },
  ]);
});
