import assert from "node:assert/strict";
import { test } from "node:test";
import { fixture } from "../../../../test/support/paths.js";
import { createCdrReader, readCdrFile } from "./reader.js";
import type { CdrItem } from "./types.js";

async function read(file: string) {
  const items: CdrItem[] = [];
  for await (const item of readCdrFile(fixture("cdr", "freeswitch", file), "freeswitch-json"))
    items.push(item);
  return items;
}

test("a pretty-printed mod_json_cdr document with URL-encoded variables and microsecond epochs", async () => {
  assert.deepEqual(await read("cdr-pretty.json"), [
    {
      type: "record",
      pos: { source: fixture("cdr", "freeswitch", "cdr-pretty.json"), line: 1 },
      record: {
        callId: "9d1e8f3a-6b2c-4e5d-8f7a-0b1c2d3e4f50",
        account: "tokyo/sales",
        from: "1000",
        to: "+23276123456",
        start: 1_709_287_200_125,
        answer: 1_709_287_206_250,
        end: 1_709_288_406_500,
        billsec: 1200,
        disposition: "ANSWERED",
        sourceIp: "192.0.2.50",
      },
    },
  ]);
});

test("JSON lines: unanswered call, callflow fallbacks (old object form), bad and truncated documents", async () => {
  const items = await read("cdr.jsonl");
  const source = fixture("cdr", "freeswitch", "cdr.jsonl");
  assert.deepEqual(items[0], {
    type: "record",
    pos: { source, line: 1 },
    record: {
      callId: "0b7e1c2d-0000-4000-8000-00000000000a",
      account: "1001",
      from: "1001",
      to: "+8816123456",
      start: 1_709_290_800_000,
      end: 1_709_290_830_000,
      billsec: 0,
      disposition: "NO ANSWER",
      sourceIp: "198.51.100.23",
    },
  });
  assert.deepEqual(items[1], {
    type: "record",
    pos: { source, line: 2 },
    record: {
      callId: "0b7e1c2d-0000-4000-8000-00000000000b",
      account: "osaka",
      from: "1002",
      to: "0046701234567",
      start: 1_709_291_000_000,
      answer: 1_709_291_004_000,
      end: 1_709_291_065_000,
      billsec: 61,
      disposition: "ANSWERED",
      sourceIp: "198.51.100.24",
    },
  });
  assert.deepEqual(
    items.slice(2).map((i) => (i.type === "rejected" ? [i.rejected.line, i.rejected.reason] : i.type)),
    [
      [3, "start time (start_epoch) is missing or malformed"],
      [4, "JSON object is not closed at the end of the input"],
    ],
  );
});

test("newest callflow first: the number as dialled comes from the first profile, times span all", async () => {
  const doc = {
    variables: { uuid: "u-1", accountcode: "a" },
    callflow: [
      {
        profile_index: "2",
        caller_profile: { caller_id_number: "1000", destination_number: "2000" },
        times: { created_time: "1709290805000000", answered_time: "0", hangup_time: "1709290900000000" },
      },
      {
        profile_index: "1",
        caller_profile: { caller_id_number: "1000", destination_number: "+442071234567" },
        times: { created_time: "1709290800000000", answered_time: "1709290803000000", hangup_time: "0" },
      },
    ],
  };
  const items: CdrItem[] = [];
  for await (const item of createCdrReader("freeswitch-json")([JSON.stringify(doc)], "x")) items.push(item);
  assert.equal(items[0]?.type, "record");
  if (items[0]?.type === "record") {
    assert.equal(items[0].record.to, "+442071234567");
    assert.equal(items[0].record.start, 1_709_290_800_000);
    assert.equal(items[0].record.answer, 1_709_290_803_000);
    assert.equal(items[0].record.end, 1_709_290_900_000);
    assert.equal(items[0].record.billsec, 97);
  }
});
