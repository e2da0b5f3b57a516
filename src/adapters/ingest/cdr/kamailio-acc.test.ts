import assert from "node:assert/strict";
import { test } from "node:test";
import { fixture } from "../../../../test/support/paths.js";
import { accTime } from "./kamailio-acc.js";
import type { CdrReaderOptions } from "./options.js";
import { createCdrReader, createCdrStats, readCdrFile } from "./reader.js";
import type { CdrItem } from "./types.js";

async function read(file: string, options: CdrReaderOptions = {}) {
  const stats = createCdrStats();
  const items: CdrItem[] = [];
  for await (const item of readCdrFile(fixture("cdr", "kamailio", file), "kamailio-acc", options, stats)) {
    items.push(item);
  }
  return { items, stats };
}

async function readLines(lines: string[], options: CdrReaderOptions = {}) {
  const notices: string[] = [];
  const items: CdrItem[] = [];
  const reader = createCdrReader("kamailio-acc", { ...options, onNotice: (n) => notices.push(n.message) });
  for await (const item of reader(lines, "inline")) items.push(item);
  return { items, notices };
}

const at = (h: number, m: number, s = 0) => Date.UTC(2024, 2, 1, h, m, s);

const answeredCall = {
  callId: "3c26700e5c6b4d9f@192.0.2.10",
  account: "1001",
  from: "1001",
  to: "0046701234567",
  start: at(10, 0, 5),
  answer: at(10, 0, 5),
  end: at(10, 2, 5),
  billsec: 120,
  disposition: "ANSWERED",
  sourceIp: "192.0.2.10",
};

const busyCall = {
  callId: "77d1b2c3e4f5@192.0.2.11",
  account: "1002",
  from: "1002",
  to: "0088213123456",
  start: at(10, 0, 30),
  end: at(10, 0, 30),
  billsec: 0,
  disposition: "BUSY",
  sourceIp: "192.0.2.11",
};

test("syslog: INVITE and BYE paired, missed calls, re-INVITE, stray BYE, INVITE never ended", async () => {
  const notices: string[] = [];
  const { items, stats } = await read("acc-syslog.log", {
    onNotice: (n) => notices.push(`${n.line}: ${n.message}`),
  });
  const source = fixture("cdr", "kamailio", "acc-syslog.log");
  assert.deepEqual(items, [
    // `call missed` and the failed `transaction answered` of the same INVITE make one record.
    { type: "record", pos: { source, line: 4 }, record: busyCall },
    {
      type: "record",
      pos: { source, line: 7 },
      record: {
        callId: "9a8b7c6d@198.51.100.7",
        account: "2001",
        from: "2001",
        to: "0023276123456",
        start: at(10, 1, 10),
        end: at(10, 1, 10),
        billsec: 0,
        disposition: "NO ANSWER",
        sourceIp: "198.51.100.7",
      },
    },
    // The call is reported when its BYE comes, at the line of its INVITE; the re-INVITE on line 6 is ignored.
    { type: "record", pos: { source, line: 2 }, record: answeredCall },
    {
      type: "rejected",
      rejected: {
        source,
        line: 9,
        reason: "BYE without an answered INVITE (its INVITE is not in this input, or was given up on)",
        raw: items[3]?.type === "rejected" ? items[3].rejected.raw : "",
      },
    },
    {
      type: "rejected",
      rejected: {
        source,
        line: 11,
        reason: "ACC line without method or call_id",
        raw: items[4]?.type === "rejected" ? items[4].rejected.raw : "",
      },
    },
    {
      type: "record",
      pos: { source, line: 10 },
      record: {
        callId: "long-call-no-bye@203.0.113.77",
        account: "4001",
        from: "4001",
        to: "0088213999999",
        start: at(10, 4),
        answer: at(10, 4),
        end: at(10, 4),
        billsec: 0,
        disposition: "ANSWERED",
        sourceIp: "203.0.113.77",
      },
    },
  ]);
  assert.deepEqual(notices, [
    "10: answered INVITE long-call-no-bye@203.0.113.77: no BYE before the end of the input; recorded without a duration",
  ]);
  assert.equal(stats.lines, 11);
  assert.equal(stats.records, 4);
  assert.equal(stats.rejected, 2);
});

test("unpaired INVITEs can be rejected instead", async () => {
  const { items } = await read("acc-syslog.log", { kamailio: { unpaired: "reject" } });
  const last = items.at(-1);
  assert.deepEqual(last?.type === "rejected" && [last.rejected.line, last.rejected.reason], [
    10,
    "answered INVITE never paired with a BYE",
  ]);
});

const acc = (ts: number, method: string, callId: string, code = 200, extra = "") =>
  `Mar  1 10:00:00 sbc1 /usr/sbin/kamailio[1]: NOTICE: acc [acc.c:290]: acc_log_request(): ACC: transaction answered: ` +
  `timestamp=${ts};method=${method};from_tag=f;to_tag=t;call_id=${callId};code=${code};reason=OK;src_user=1001;` +
  `src_ip=192.0.2.10;dst_ouser=0046701234567${extra}`;

test("an INVITE older than the horizon is given up on when event time moves past it", async () => {
  const t0 = 1_709_287_200;
  const { items, notices } = await readLines(
    [
      acc(t0, "INVITE", "a"),
      acc(t0 + 30, "INVITE", "b"),
      acc(t0 + 3620, "BYE", "b"),
      acc(t0 + 3621, "BYE", "a"),
    ],
    { kamailio: { horizonSeconds: 3600 } },
  );
  assert.deepEqual(
    items.map((i) =>
      i.type === "record" ? [i.record.callId, i.record.billsec] : [i.rejected.line, i.rejected.reason],
    ),
    [
      ["a", 0],
      ["b", 3590],
      [4, "BYE without an answered INVITE (its INVITE is not in this input, or was given up on)"],
    ],
  );
  assert.deepEqual(notices, ["answered INVITE a: no BYE within 3600 s; recorded without a duration"]);
});

test("the pairing table is bounded: the oldest call is given up on when it is full", async () => {
  const t0 = 1_709_287_200;
  const { items, notices } = await readLines(
    [acc(t0, "INVITE", "a"), acc(t0 + 1, "INVITE", "b"), acc(t0 + 2, "INVITE", "c"), acc(t0 + 9, "BYE", "c")],
    { kamailio: { maxOpenCalls: 2 } },
  );
  assert.deepEqual(
    items.map((i) => i.type === "record" && [i.record.callId, i.record.billsec]),
    [
      ["a", 0],
      ["c", 7],
      ["b", 0],
    ],
  );
  assert.equal(
    notices[0],
    "answered INVITE a: the pairing table is full (maxOpenCalls); recorded without a duration",
  );
});

test("configurable extra attributes, time_mode precision, values holding ';'", async () => {
  const line = acc(
    1_709_287_200,
    "INVITE",
    "x",
    200,
    ";time_attr=1709287200.250;tenant=acme;ruri=sip:+44;x@h;ip=203.0.113.9",
  );
  const bye = acc(1_709_287_260, "BYE", "x", 200, ";time_exten=750000");
  const { items } = await readLines([line, bye], {
    kamailio: { account: ["tenant"], to: ["ruri"], sourceIp: ["ip"] },
  });
  assert.equal(items[0]?.type, "record");
  if (items[0]?.type === "record") {
    assert.equal(items[0].record.account, "acme");
    assert.equal(items[0].record.to, "sip:+44;x@h");
    assert.equal(items[0].record.sourceIp, "203.0.113.9");
    assert.equal(items[0].record.answer, 1_709_287_200_250);
    assert.equal(items[0].record.end, 1_709_287_260_750);
    assert.equal(items[0].record.billsec, 61);
  }
  assert.equal(accTime("1709287200", "", "123456"), 1_709_287_200_123);
  assert.ok(Number.isNaN(accTime("soon", "", "")));
});

test("acc table export (local times of the database) pairs like syslog; quoted values with commas", async () => {
  const { items } = await read("acc.csv", { timeZone: "Asia/Tokyo" });
  assert.deepEqual(
    items.map((i) => (i.type === "record" ? i.record : [i.rejected.line, i.rejected.reason])),
    [
      busyCall,
      answeredCall,
      {
        callId: "quoted,callid@192.0.2.12",
        account: "1003",
        from: "1003",
        to: "0081312345678",
        start: at(10, 3),
        answer: at(10, 3),
        end: at(10, 3, 9),
        billsec: 9,
        disposition: "ANSWERED",
        sourceIp: "192.0.2.12",
      },
      [7, "acc row without a valid time"],
    ],
  );
});

test("acc_cdrs export: calls with millisecond times, NULL callid, short rows rejected", async () => {
  const { items } = await read("acc_cdrs.csv");
  assert.deepEqual(items[0]?.type === "record" && items[0].record, {
    ...answeredCall,
    start: at(10, 0, 5) + 120,
    answer: at(10, 0, 5) + 120,
    end: at(10, 2, 5) + 480,
  });
  assert.equal(items[1]?.type, "record");
  if (items[1]?.type === "record") {
    assert.match(items[1].record.callId, /^cdr-/);
    assert.equal(items[1].record.billsec, 3600);
    assert.equal(items[1].record.to, "0088213999999");
  }
  assert.deepEqual(items[2]?.type === "rejected" && [items[2].rejected.line, items[2].rejected.reason], [
    4,
    "expected 11 columns (the header), found 6",
  ]);
});
