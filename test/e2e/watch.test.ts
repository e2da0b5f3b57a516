import assert from "node:assert/strict";
import { appendFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { AsteriskCsvWriter } from "../../src/adapters/ingest/cdr/writers/index.js";
import { type WatchStats, watchCdrFile } from "../../src/cli/watch.js";
import type { CallRecord } from "../../src/core/call-events.js";
import { client, type MamoriProcess, startMamori, tempDir } from "../support/mamori-process.js";

/**
 * End to end: the real service, and `mamori watch` following a Master.csv that a PBX appends to. A hacked
 * PBX dials a rented +232 range in sequence; the file is rotated (renamed, a new one created) half-way;
 * the service must block the account from the calls it was told about, and say so on GET /v1/blocks.
 */
const TZ = "Asia/Tokyo";
const allDay = { days: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"], start: "00:00", end: "24:00" };

let m: MamoriProcess;
let operatorKey = "";

before(async () => {
  m = await startMamori();
  assert.ok(m.adminKey, "the first start prints an admin key");
  const admin = client(m.url, m.adminKey);
  const k = await admin("POST", "/v1/keys", { name: "cdr watcher", role: "operator" });
  assert.equal(k.status, 201, k.text);
  operatorKey = k.json.secret;
  const p = await admin("PUT", "/v1/accounts/pbx-victim", {
    country: "JP",
    international: { mode: "all" },
    businessHours: allDay,
    holidays: { calendar: "none" },
  });
  assert.equal(p.status, 201, p.text);
});

after(async () => {
  await m?.stop();
});

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("watch follows Master.csv across rotation and the service blocks the account", {
  timeout: 60_000,
}, async () => {
  const dir = tempDir("mamori-watch-");
  const file = join(dir, "Master.csv");
  const writer = new AsteriskCsvWriter({ timeZone: TZ });
  const t0 = Math.floor(Date.now() / 1000) * 1000 - 10 * 60_000;
  const call = (i: number, to: string, billsec: number): CallRecord => ({
    callId: `${t0 / 1000 + i}.${i}`,
    account: "pbx-victim",
    from: "201",
    to,
    start: t0 + i * 20_000,
    answer: t0 + i * 20_000 + 3000,
    end: t0 + i * 20_000 + 3000 + billsec * 1000,
    billsec,
    disposition: "ANSWERED",
  });
  // An ordinary call, then a row cut short by a crash, then the attack: +232 76 1234 00, 01, 02 …
  writeFileSync(file, writer.write(call(0, "0312345678", 95)) + '"pbx-victim","201","03123"\n');
  const logs: string[] = [];
  const stop = new AbortController();
  const watching: Promise<WatchStats> = watchCdrFile(file, {
    url: m.url,
    key: operatorKey,
    fromStart: true,
    timeZone: TZ,
    pollMs: 50,
    signal: stop.signal,
    log: (l) => logs.push(l),
  });
  const fraud = Array.from({ length: 10 }, (_, k) => call(k + 1, `0102327612340${k}`, 30));
  try {
    for (const r of fraud.slice(0, 4)) appendFileSync(file, writer.write(r));
    const op = client(m.url, operatorKey);
    // Rotation as logrotate's default does it: rename, then the switch opens a new file.
    await until("the first rows to be sent", 10_000, async () => {
      const d = await op("GET", "/v1/decisions?account=pbx-victim");
      return d.json?.decisions?.length >= 5 ? true : undefined;
    });
    renameSync(file, `${file}.1`);
    writeFileSync(file, "");
    for (const r of fraud.slice(4)) appendFileSync(file, writer.write(r));
    const block = await until("a block on pbx-victim", 15_000, async () => {
      const b = await op("GET", "/v1/blocks?active=true&account=pbx-victim");
      return b.json?.blocks?.[0];
    });
    assert.equal(block.account, "pbx-victim");
    assert.equal(block.rule, "sequential-numbers");
    await until("every row to be sent", 10_000, async () => {
      const d = await op("GET", "/v1/decisions?account=pbx-victim&limit=100");
      return d.json?.decisions?.length >= 11 ? d.json.decisions : undefined;
    });
    const d = await op("GET", "/v1/decisions?account=pbx-victim&limit=100");
    const denied = d.json.decisions.filter((x: { decision: string }) => x.decision === "deny");
    assert.ok(denied.length >= 5, `calls after the block are denied (${denied.length})`);
  } finally {
    stop.abort();
  }
  const stats = await watching;
  assert.equal(stats.records, 11);
  assert.equal(stats.rejected, 1);
  assert.ok(
    logs.some((l) => l.startsWith(`rejected ${file}:2: `)),
    `the bad row is reported with its file and line:\n${logs.join("\n")}`,
  );
  assert.ok(logs.some((l) => /alert .* pbx-victim critical sequential-numbers/.test(l)));
});
