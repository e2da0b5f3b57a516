import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CallRecord } from "../../../../core/call-events.js";
import { fromLocal } from "../../../../core/local-time.js";
import type { CdrReaderOptions } from "../options.js";
import { createCdrReader } from "../reader.js";
import { type CdrFormat, cdrFormats } from "../types.js";
import { createCdrWriter, genericCsvColumnMap } from "./index.js";

const at = (tz: string, d: number, h: number, mi: number, s = 0) => fromLocal(2026, 3, d, h, mi, s, tz);

function calls(tz: string, base: (d: number, h: number, mi: number, s?: number) => number): CallRecord[] {
  const answered = (
    callId: string,
    to: string,
    start: number,
    ring: number,
    billsec: number,
    extra: Partial<CallRecord> = {},
  ): CallRecord => ({
    callId,
    account: "acme",
    from: "1001",
    to,
    start,
    answer: start + ring * 1000,
    end: start + (ring + billsec) * 1000,
    billsec,
    disposition: "ANSWERED",
    sourceIp: "192.0.2.10",
    ...extra,
  });
  const missed = (callId: string, to: string, start: number, ring: number, d: CallRecord["disposition"]) => ({
    callId,
    account: "tokyo-sales",
    from: "2001",
    to,
    start,
    end: start + ring * 1000,
    billsec: 0,
    disposition: d,
    sourceIp: "198.51.100.7",
  });
  void tz;
  return [
    answered("1772400000.1", "0312345678", base(2, 9, 0), 5, 120),
    answered("1772400000.2", "+23276123456", base(2, 9, 1), 3, 3599),
    missed("1772400000.3", "0010442071234567", base(2, 9, 2), 25, "NO ANSWER"),
    missed("1772400000.4", "09012345678", base(2, 9, 3), 2, "BUSY"),
    missed("1772400000.5", "010861012345678", base(2, 9, 4), 0, "FAILED"),
    missed("1772400000.6", "+881612345678", base(2, 9, 5), 1, "CONGESTION"),
    answered("1772400000.7", "+12125551234", base(2, 23, 59, 50), 4, 30, { from: 'Bob "B" 1002' }),
    answered("1772400000.8", "0120123456", base(3, 0, 0, 30), 0, 0),
  ];
}

/** What each format keeps of a call: the reader's view of the record the writer was given. */
function expected(format: CdrFormat, r: CallRecord): Partial<CallRecord> {
  const base: Record<string, unknown> = {
    callId: r.callId,
    account: r.account,
    to: r.to,
    start: r.start,
    answer: r.answer,
    end: r.end,
    billsec: r.billsec,
    disposition: r.disposition,
  };
  switch (format) {
    case "asterisk-csv":
    case "freeswitch-csv":
      return { ...base, from: r.from } as Partial<CallRecord>;
    case "freeswitch-json":
    case "csv":
      return { ...base, from: r.from, sourceIp: r.sourceIp } as Partial<CallRecord>;
    case "kamailio-acc":
      // acc sees transactions: an answered call starts at its answer, a missed one is one instant.
      return r.answer !== undefined
        ? { ...base, start: r.answer, from: r.account, sourceIp: r.sourceIp }
        : { ...base, start: r.end, from: r.account, sourceIp: r.sourceIp };
    case "cgrates-json":
      // Without an answer a CGRateS CDR has no end apart from its setup time.
      return r.answer !== undefined
        ? { ...base, from: r.from, sourceIp: r.sourceIp }
        : { ...base, end: r.start, from: r.from, sourceIp: r.sourceIp };
  }
}

async function roundTrip(format: CdrFormat, timeZone: string, records: CallRecord[]) {
  const w = createCdrWriter(format, { timeZone });
  let text = w.header;
  for (const r of records) text += w.write(r);
  text += w.finish();
  const options: CdrReaderOptions = {
    timeZone,
    ...(format === "csv" ? { columnMap: genericCsvColumnMap } : {}),
  };
  const read = createCdrReader(format, options);
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const out: CallRecord[] = [];
  const rejected: string[] = [];
  for await (const item of read(lines, "mem")) {
    if (item.type === "record") out.push(item.record);
    else rejected.push(`${item.rejected.line}: ${item.rejected.reason}`);
  }
  return { text, out, rejected };
}

const pick = (r: CallRecord, keys: string[]) =>
  Object.fromEntries(keys.map((k) => [k, (r as Record<string, unknown>)[k]]));

for (const timeZone of ["Asia/Tokyo", "Europe/Berlin", "UTC"]) {
  describe(`writers round-trip through their readers (${timeZone})`, () => {
    const records = calls(timeZone, (d, h, mi, s = 0) => at(timeZone, d, h, mi, s));
    for (const format of cdrFormats) {
      test(format, async () => {
        const { out, rejected } = await roundTrip(format, timeZone, records);
        assert.deepEqual(rejected, []);
        assert.equal(out.length, records.length);
        const byId = new Map(out.map((r) => [r.callId, r]));
        for (const r of records) {
          const want = expected(format, r);
          const got = byId.get(r.callId);
          assert.ok(got, `${r.callId} read back`);
          const keys = Object.keys(want);
          assert.deepEqual(pick(got, keys), want, `${format} ${r.callId}`);
        }
      });
    }
  });
}

test("Asterisk: 18 quoted columns by default, 16 and 21 on request, answer empty when unanswered", () => {
  const tz = "Asia/Tokyo";
  const [call, , missed] = calls(tz, (d, h, mi, s = 0) => at(tz, d, h, mi, s));
  const w = createCdrWriter("asterisk-csv", { timeZone: tz });
  const line = w.write(call as CallRecord);
  assert.equal(
    line,
    '"acme","1001","0312345678","from-internal","""1001"" <1001>","PJSIP/1001-00000001","PJSIP/trunk-00000002",' +
      '"Dial","PJSIP/0312345678@trunk,60","2026-03-02 09:00:00","2026-03-02 09:00:05","2026-03-02 09:02:05",125,120,' +
      '"ANSWERED","DOCUMENTATION","1772400000.1",""\n',
  );
  assert.match(
    w.write(missed as CallRecord),
    /"2026-03-02 09:02:00",,"2026-03-02 09:02:25",25,0,"NO ANSWER"/,
  );
  const w16 = createCdrWriter("asterisk-csv", { timeZone: tz, asteriskColumns: 16 });
  assert.ok(w16.write(call as CallRecord).endsWith('"ANSWERED","DOCUMENTATION"\n'));
  const w21 = createCdrWriter("asterisk-csv", { timeZone: tz, asteriskColumns: 21 });
  assert.ok(w21.write(call as CallRecord).endsWith('"1772400000.1","","","1772400000.1",1\n'));
});

test("FreeSWITCH JSON values are URL-encoded; Kamailio lines come out in time order", async () => {
  const tz = "Asia/Tokyo";
  const records = calls(tz, (d, h, mi, s = 0) => at(tz, d, h, mi, s));
  const json = createCdrWriter("freeswitch-json", { timeZone: tz }).write(records[1] as CallRecord);
  const doc = JSON.parse(json) as { variables: Record<string, string> };
  assert.equal(doc.variables.destination_number, "%2B23276123456");
  assert.equal(doc.variables.start_stamp, "2026-03-02%2009%3A01%3A00");
  const { text } = await roundTrip("kamailio-acc", tz, records);
  const stamps = text
    .trim()
    .split("\n")
    .map((l) => Number(/timestamp=(\d+)/.exec(l)?.[1]));
  assert.deepEqual(
    stamps,
    [...stamps].sort((a, b) => a - b),
  );
  assert.match(
    text,
    /^Mar {2}2 09:00:05 sbc1 \/usr\/sbin\/kamailio\[\d+\]: NOTICE: acc .*ACC: transaction answered: /,
  );
  assert.match(text, /ACC: call missed: timestamp=\d+;method=INVITE;.*code=486;reason=Busy Here/);
});

test("wall-clock formats keep a call that spans the hour a DST change repeats", async () => {
  const tz = "Europe/Berlin";
  // 02:50 summer time, 30 minutes: it ends at 02:20 winter time, a wall clock that reads earlier.
  const start = Date.UTC(2026, 9, 25, 0, 50);
  const r: CallRecord = {
    callId: "dst-1",
    account: "berlin",
    to: "+4930123456",
    start,
    answer: start + 5000,
    end: start + 1_805_000,
    billsec: 1800,
    disposition: "ANSWERED",
  };
  for (const format of ["asterisk-csv", "freeswitch-csv"] as const) {
    const { out } = await roundTrip(format, tz, [r]);
    assert.deepEqual(
      pick(out[0] as CallRecord, ["start", "answer", "end"]),
      pick(r, ["start", "answer", "end"]),
    );
  }
});
