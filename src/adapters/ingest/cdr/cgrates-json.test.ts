import assert from "node:assert/strict";
import { test } from "node:test";
import { fixture } from "../../../../test/support/paths.js";
import type { CdrReaderOptions } from "./options.js";
import { createCdrReader, readCdrFile } from "./reader.js";
import type { CdrItem } from "./types.js";

async function read(file: string, options: CdrReaderOptions = {}) {
  const items: CdrItem[] = [];
  for await (const item of readCdrFile(fixture("cdr", "cgrates", file), "cgrates-json", options))
    items.push(item);
  return items;
}

const summary = (items: CdrItem[]) =>
  items.map((i) => (i.type === "record" ? i.record : [i.rejected.line, i.rejected.reason]));

test("an array of CDRs: *default run only, zero AnswerTime is unanswered, non-voice skipped", async () => {
  assert.deepEqual(summary(await read("cdrs.json")), [
    {
      callId: "9d1e8f3a-6b2c-4e5d-8f7a-0b1c2d3e4f50",
      account: "1001",
      from: "1001",
      to: "+23276123456",
      start: Date.UTC(2024, 2, 1, 10, 0, 0),
      answer: Date.UTC(2024, 2, 1, 10, 0, 6, 250),
      end: Date.UTC(2024, 2, 1, 10, 20, 6, 250),
      billsec: 1200,
      disposition: "ANSWERED",
      sourceIp: "192.0.2.50",
    },
    [30, "CDR of RunID *raw skipped (runIds lists the runs to read)"],
    {
      callId: "0b7e1c2d-0000-4000-8000-00000000000a",
      account: "1002",
      to: "+8816123456",
      start: Date.UTC(2024, 2, 1, 10, 20),
      end: Date.UTC(2024, 2, 1, 10, 20),
      billsec: 0,
      disposition: "NO ANSWER",
    },
    [62, "not a voice CDR (ToR *sms)"],
  ]);
});

test("JSON lines with Usage as duration strings and nanosecond times", async () => {
  assert.deepEqual(summary(await read("cdrs.jsonl")), [
    {
      callId: "a84b4c76e66710@pc33.example.com",
      account: "acme",
      to: "4420712345",
      start: Date.UTC(2024, 2, 1, 10, 0, 0, 123),
      answer: Date.UTC(2024, 2, 1, 10, 0, 4),
      end: Date.UTC(2024, 2, 1, 10, 1, 34),
      billsec: 90,
      disposition: "ANSWERED",
    },
    {
      callId: "b95c5d87f77821@pc33.example.com",
      account: "acme",
      to: "88213123456",
      start: Date.UTC(2024, 2, 1, 10, 5),
      answer: Date.UTC(2024, 2, 1, 10, 5, 2),
      end: Date.UTC(2024, 2, 1, 12, 5, 2, 500),
      billsec: 7201,
      disposition: "ANSWERED",
    },
    [3, "Usage is not a duration"],
  ]);
});

test("runIds, tenant in account, bare usage in seconds, a CDRsV1.GetCDRs reply", async () => {
  const reply = JSON.stringify({
    id: 1,
    error: null,
    result: [
      {
        CGRID: "c1",
        RunID: "*rated",
        OriginID: "o1",
        ToR: "*voice",
        Tenant: "t1",
        Account: "a1",
        Destination: "123",
        SetupTime: "2024-03-01T10:00:00Z",
        AnswerTime: "2024-03-01T10:00:01Z",
        Usage: "42",
      },
      "not a CDR",
    ],
  });
  const reader = createCdrReader("cgrates-json", {
    cgrates: { runIds: ["*rated"], tenantInAccount: true, bareUsage: "s" },
  });
  const items: CdrItem[] = [];
  for await (const item of reader([reply], "rpc")) items.push(item);
  assert.deepEqual(summary(items), [
    {
      callId: "o1",
      account: "t1:a1",
      to: "123",
      start: Date.UTC(2024, 2, 1, 10, 0, 0),
      answer: Date.UTC(2024, 2, 1, 10, 0, 1),
      end: Date.UTC(2024, 2, 1, 10, 0, 43),
      billsec: 42,
      disposition: "ANSWERED",
    },
    [1, "CDR is not a JSON object"],
  ]);
});
