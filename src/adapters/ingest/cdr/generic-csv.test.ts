import assert from "node:assert/strict";
import { test } from "node:test";
import { fixture } from "../../../../test/support/paths.js";
import { cdrColumnMapSchema } from "./column-map.js";
import type { CdrReaderOptions } from "./options.js";
import { createCdrReader, readCdrFile } from "./reader.js";
import type { CdrItem } from "./types.js";

const summary = (items: CdrItem[]) =>
  items.map((i) => (i.type === "record" ? i.record : [i.rejected.line, i.rejected.reason]));

const callsMap = {
  callId: "call_id",
  account: "customer",
  from: "caller",
  to: "called",
  start: "started_at",
  answer: "answered_at",
  end: "ended_at",
  billsec: "billable",
  disposition: "Status",
  sourceIp: "peer_ip",
  timeFormat: "iso",
  timeZone: "Asia/Tokyo",
  header: true,
} as const;

test("a header CSV with ISO times; zone-less times are in the map's zone; names match without case", async () => {
  const items: CdrItem[] = [];
  for await (const item of readCdrFile(fixture("cdr", "csv", "calls.csv"), "csv", { columnMap: callsMap })) {
    items.push(item);
  }
  assert.deepEqual(summary(items), [
    {
      callId: "a-001",
      account: "cust-42",
      from: "+81312345678",
      to: "+23276123456",
      start: Date.UTC(2024, 2, 1, 1, 0, 0),
      answer: Date.UTC(2024, 2, 1, 1, 0, 5),
      end: Date.UTC(2024, 2, 1, 1, 30, 5),
      billsec: 1800,
      disposition: "ANSWERED",
      sourceIp: "192.0.2.200",
    },
    {
      callId: "a-002",
      account: "cust-42",
      from: "+81312345678",
      to: "+8816123456",
      start: Date.UTC(2024, 2, 1, 1, 31),
      end: Date.UTC(2024, 2, 1, 1, 31, 20),
      billsec: 0,
      disposition: "NO ANSWER",
      sourceIp: "192.0.2.200",
    },
    {
      callId: "a-003",
      account: "cust-43",
      from: "+81 3 1234 5679",
      to: "+44 20 7123 4567",
      start: Date.UTC(2024, 1, 29, 16, 40),
      answer: Date.UTC(2024, 1, 29, 16, 40, 3),
      end: Date.UTC(2024, 1, 29, 16, 41, 3),
      billsec: 60,
      disposition: "ANSWERED",
      sourceIp: "192.0.2.201",
    },
    [5, "start time is missing or not iso"],
  ]);
});

async function readLines(lines: string[], options: CdrReaderOptions) {
  const items: CdrItem[] = [];
  for await (const item of createCdrReader("csv", options)(lines, "inline")) items.push(item);
  return items;
}

test("no header, columns by index, epoch seconds, ';' delimiter, end from duration", async () => {
  const items = await readLines(
    ["acme;+4420;1709287200;1709287203;65", "acme;+4421;1709287300;;0", "acme;+4422"],
    {
      columnMap: {
        account: 0,
        to: 1,
        start: 2,
        answer: 3,
        duration: 4,
        timeFormat: "epoch",
        header: false,
        delimiter: ";",
      },
    },
  );
  assert.deepEqual(summary(items), [
    {
      callId: items[0]?.type === "record" ? items[0].record.callId : "",
      account: "acme",
      to: "+4420",
      start: 1_709_287_200_000,
      answer: 1_709_287_203_000,
      end: 1_709_287_265_000,
      billsec: 62,
      disposition: "ANSWERED",
    },
    {
      callId: items[1]?.type === "record" ? items[1].record.callId : "",
      account: "acme",
      to: "+4421",
      start: 1_709_287_300_000,
      end: 1_709_287_300_000,
      billsec: 0,
      disposition: "UNKNOWN",
    },
    [3, "expected 5 columns, found 2"],
  ]);
});

test("local and epoch-ms time formats", async () => {
  const local = await readLines(["a,1,2024-07-01 09:00:00,30"], {
    columnMap: { account: 0, to: 1, start: 2, billsec: 3, timeFormat: "local", header: false },
    timeZone: "Asia/Tokyo",
  });
  assert.deepEqual(local[0]?.type === "record" && [local[0].record.start, local[0].record.end], [
    Date.UTC(2024, 6, 1, 0, 0, 0),
    Date.UTC(2024, 6, 1, 0, 0, 30),
  ]);
  const ms = await readLines(["a,1,1709287200123,1709287260123"], {
    columnMap: { account: 0, to: 1, start: 2, end: 3, timeFormat: "epoch-ms", header: false },
  });
  assert.deepEqual(
    ms[0]?.type === "record" && [ms[0].record.start, ms[0].record.end, ms[0].record.billsec],
    [1_709_287_200_123, 1_709_287_260_123, 0],
  );
});

test("a quoted field may hold line breaks, blank lines included", async () => {
  const items = await readLines(
    [
      "id,acct,to,start,end",
      '1,"multi',
      "",
      'line acct",+1,2024-03-01T00:00:00Z,2024-03-01T00:01:00Z',
      "2,b,+2,2024-03-01T00:00:00Z,",
    ],
    {
      columnMap: {
        callId: "id",
        account: "acct",
        to: "to",
        start: "start",
        end: "end",
        timeFormat: "iso",
        header: true,
      },
    },
  );
  assert.deepEqual(
    items.map((i) => i.type === "record" && [i.pos.line, i.record.account, i.record.end - i.record.start]),
    [
      [2, "multi\n\nline acct", 60_000],
      [5, "b", 0],
    ],
  );
});

test("a header that lacks a mapped column rejects every row with the same reason", async () => {
  const items = await readLines(["acct,dst,begin,stop", "a,1,2024-03-01T00:00:00Z,2024-03-01T00:01:00Z"], {
    columnMap: { account: "acct", to: "dst", start: "start", end: "stop", timeFormat: "iso", header: true },
  });
  const reason = 'header has no column "start" named in the column map';
  assert.deepEqual(summary(items), [
    [1, reason],
    [2, reason],
  ]);
});

test("the column map schema says what is wrong", () => {
  const bad = cdrColumnMapSchema.safeParse({
    account: "acct",
    to: 1,
    start: 2,
    timeFormat: "rfc",
    header: false,
    delimiter: '"',
  });
  assert.equal(bad.success, false);
  const paths = bad.error?.issues.map((i) => i.path.join(".")).sort();
  assert.deepEqual(paths, ["delimiter", "timeFormat"]);
  const noEnd = cdrColumnMapSchema.safeParse({
    account: "acct",
    to: 1,
    start: 2,
    timeFormat: "iso",
    header: false,
  });
  assert.deepEqual(
    noEnd.error?.issues.map((i) => [i.path.join("."), i.message]),
    [
      ["account", "columns are named only when header is true; give a 0-based column index"],
      ["end", "the end of a call needs a column: give end, duration or billsec"],
    ],
  );
  assert.throws(() => createCdrReader("csv", {}), /needs a columnMap/);
});
