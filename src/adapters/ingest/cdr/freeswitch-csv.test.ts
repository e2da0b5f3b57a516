import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fixture } from "../../../../test/support/paths.js";
import {
  FREESWITCH_EXAMPLE_COLUMNS,
  FREESWITCH_EXAMPLE_TEMPLATE,
  templateColumns,
} from "./freeswitch-csv.js";
import type { CdrReaderOptions } from "./options.js";
import { createCdrReader, readCdrFile } from "./reader.js";
import type { CdrItem } from "./types.js";

async function read(file: string, options: CdrReaderOptions = {}) {
  const items: CdrItem[] = [];
  for await (const item of readCdrFile(fixture("cdr", "freeswitch", file), "freeswitch-csv", options))
    items.push(item);
  return items;
}

const records = (items: CdrItem[]) => items.flatMap((i) => (i.type === "record" ? [i.record] : []));
const dollar = (name: string) => '"$' + "{" + name + '}"';

test("the built-in example template has FreeSWITCH's column order", () => {
  assert.deepEqual(templateColumns(FREESWITCH_EXAMPLE_TEMPLATE).names, [...FREESWITCH_EXAMPLE_COLUMNS]);
  assert.equal(FREESWITCH_EXAMPLE_TEMPLATE.split(",")[0], dollar("caller_id_name"));
});

test("example template: answered, unanswered (empty answer_stamp), busy, congestion", async () => {
  const items = await read("Master-example.csv", { timeZone: "Europe/Stockholm" });
  assert.equal(items.length, 4);
  const cet = (h: number, m: number, s = 0) => Date.UTC(2024, 2, 1, h - 1, m, s);
  assert.deepEqual(records(items), [
    {
      callId: "5a1c1f7e-0c4b-4d6e-9a3f-000000000001",
      account: "1000",
      from: "1000",
      to: "0046701234567",
      start: cet(10, 0),
      answer: cet(10, 0, 4),
      end: cet(10, 5, 4),
      billsec: 300,
      disposition: "ANSWERED",
    },
    {
      callId: "5a1c1f7e-0c4b-4d6e-9a3f-000000000002",
      account: "1001",
      from: "1001",
      to: "0046701234568",
      start: cet(10, 10),
      end: cet(10, 10, 20),
      billsec: 0,
      disposition: "NO ANSWER",
    },
    {
      callId: "5a1c1f7e-0c4b-4d6e-9a3f-000000000003",
      account: "sales",
      from: "1002",
      to: "0088213123456",
      start: cet(10, 20),
      end: cet(10, 20, 1),
      billsec: 0,
      disposition: "BUSY",
    },
    {
      callId: "5a1c1f7e-0c4b-4d6e-9a3f-000000000004",
      account: "1003",
      from: "1003",
      to: "0023276123456",
      start: cet(10, 30),
      end: cet(10, 30),
      billsec: 0,
      disposition: "CONGESTION",
    },
  ]);
});

test("a template other than example, with epoch times and the source address", async () => {
  const template = readFileSync(fixture("cdr", "freeswitch", "fraud.template"), "utf8");
  const items = await read("Master-fraud.csv", { freeswitch: { template } });
  assert.deepEqual(records(items), [
    {
      callId: "c0ffee00-0000-4000-8000-000000000001",
      account: "pbx-tokyo",
      from: "0312345678",
      to: "0088213123456",
      start: 1_709_287_200_000,
      answer: 1_709_287_203_000,
      end: 1_709_290_803_000,
      billsec: 3600,
      disposition: "ANSWERED",
      sourceIp: "203.0.113.77",
    },
    {
      callId: "c0ffee00-0000-4000-8000-000000000002",
      account: "pbx-tokyo",
      from: "0312345678",
      to: "0023276123456",
      start: 1_709_287_260_000,
      end: 1_709_287_290_000,
      billsec: 0,
      disposition: "NO ANSWER",
      sourceIp: "203.0.113.77",
    },
  ]);
});

test("shipped templates with a space after a comma (snom) and a trailing semicolon", async () => {
  const snom = [
    "caller_id_name",
    "caller_id_number",
    "destination_number",
    "context",
    "start_stamp",
    "answer_stamp",
    "end_stamp",
    "duration",
    "billsec",
    "hangup_cause",
    "uuid",
    "bleg_uuid",
  ]
    .map(dollar)
    .join(",")
    .concat(", ", dollar("accountcode"), ",", dollar("sip_user_agent"), ";");
  const reader = createCdrReader("freeswitch-csv", { freeswitch: { template: snom } });
  const items: CdrItem[] = [];
  for await (const item of reader(
    [
      '"Eve","1004","0046701234569","default","2024-03-01 10:40:00","2024-03-01 10:40:02","2024-03-01 10:41:02","62","60","NORMAL_CLEARING","u-5","", "acct-9","snom760/10.1";',
      '"Eve","1004","0046701234569","default","2024-03-01 10:40:00"',
    ],
    "snom",
  )) {
    items.push(item);
  }
  assert.deepEqual(
    records(items).map((r) => [r.callId, r.account, r.billsec, r.disposition]),
    [["u-5", "acct-9", 60, "ANSWERED"]],
  );
  assert.deepEqual(items[1], {
    type: "rejected",
    rejected: {
      source: "snom",
      line: 2,
      reason: "expected 14 columns (the cdr_csv template), found 5",
      raw: '"Eve","1004","0046701234569","default","2024-03-01 10:40:00"',
    },
  });
});

test("a template without destination_number is refused when the reader is made", () => {
  assert.throws(
    () => createCdrReader("freeswitch-csv", { freeswitch: { template: dollar("uuid") } }),
    /destination_number/,
  );
});
