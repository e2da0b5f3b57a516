import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, closeSync, existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Verdict } from "../../../calls/verdict.js";
import { CallJournal, listSegments, segmentPath } from "./call-journal.js";
import { asCallLogOp, type CallLogOp, callLogPaths } from "./call-log.js";
import { SqliteStore } from "./sqlite-store.js";

const T0 = Date.UTC(2026, 10, 24, 1);
const dbIn = (prefix: string) => join(mkdtempSync(join(tmpdir(), prefix)), "m.db");

const verdict = (i: number, over: Partial<Verdict> = {}): Verdict => ({
  callId: `c-${i}`,
  account: `acct-${i % 7}`,
  at: T0 + i * 1000,
  decision: i % 5 === 0 ? "deny" : "allow",
  reasons: i % 5 === 0 ? [{ rule: "international-barred", message: "international calling is off" }] : [],
  reportOnly: [],
  findings: [],
  number: {
    input: `+23276${100000 + i}`,
    e164: `23276${100000 + i}`,
    international: true,
    country: "SL",
    countryCallingCode: "232",
    type: "MOBILE",
    valid: true,
    risk: undefined,
    rate: undefined,
  },
  estimatedCost: 120 + i,
  block: undefined,
  alerts: [],
  learnedCountry: undefined,
  repeat: false,
  ...over,
});

/** Runs a script in a child Node (same loaders as this test) and waits for it to end. */
function child(code: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const p = spawn(process.execPath, [...process.execArgv, "--input-type=module", "-e", code], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  p.stdout.on("data", (d) => {
    out += d;
  });
  p.stderr.on("data", (d) => {
    out += d;
  });
  const t = setTimeout(() => p.kill("SIGKILL"), 30_000);
  return new Promise((resolve) =>
    p.once("exit", (c) => {
      clearTimeout(t);
      resolve({ code: c, out });
    }),
  );
}

const storeUrl = new URL(`./sqlite-store${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url)
  .href;

describe("call journal", () => {
  it("records survive a crash of the process: the next start indexes what the last one wrote", async () => {
    const db = dbIn("mamori-journal-crash-");
    // The child records 500 decisions, answers and ends some, then dies without closing anything.
    const r = await child(
      `const { SqliteStore } = await import(process.env.STORE_URL);
       const s = new SqliteStore(process.env.DB);
       const T0 = Number(process.env.T0);
       for (let i = 0; i < 500; i++)
         await s.recordVerdict({ callId: "k-" + i, account: "acct-" + (i % 3), at: T0 + i, decision: "allow", reasons: [],
           reportOnly: [], findings: [], number: { input: "0312345678", e164: "81312345678", international: false, country: "JP",
           countryCallingCode: "81", type: "FIXED_LINE", valid: true }, estimatedCost: 3, alerts: [], repeat: false });
       for (let i = 0; i < 100; i++) await s.recordAnswer("k-" + i, T0 + 1000 + i);
       for (let i = 0; i < 50; i++) await s.recordHangup("k-" + i, T0 + 60000 + i, 59, 4);
       process.kill(process.pid, "SIGKILL");`,
      { STORE_URL: storeUrl, DB: db, T0: String(T0) },
    );
    assert.equal(r.code, null, r.out);
    const s = new SqliteStore(db);
    try {
      const open = await s.openCalls(T0 - 1);
      assert.equal(open.length, 450, "500 allowed, 50 of them ended");
      const answered = open.filter((c) => c.answeredAt !== null);
      assert.equal(answered.length, 50);
      const all = await s.listCalls({ account: "acct-0", limit: 1000 });
      assert.equal(all.length, 167);
      const ended = all.filter((c) => c.endedAt !== null);
      assert.ok(ended.every((c) => c.billsec === 59 && c.cost === 4));
      assert.equal(ended.length, 17);
    } finally {
      await s.close();
    }
  });

  it("a line cut short by a crash is counted and skipped; the records around it are kept", async () => {
    const db = dbIn("mamori-journal-torn-");
    const s1 = new SqliteStore(db);
    for (let i = 1; i <= 20; i++) await s1.recordVerdict(verdict(i));
    await s1.close();
    const { journal } = callLogPaths(db);
    // What a crash in the middle of a write leaves: a segment ending in half a record.
    const s2 = new SqliteStore(db);
    await s2.recordVerdict(verdict(21));
    const seg = listSegments(journal).at(-1) as number;
    appendFileSync(segmentPath(journal, seg), '["v","c-22","acct-1",17');
    await s2.close();
    const s3 = new SqliteStore(db);
    try {
      await s3.recordVerdict(verdict(23));
      const calls = await s3.listCalls({ limit: 1000 });
      assert.deepEqual(
        calls.map((c) => c.callId).sort(),
        [...Array.from({ length: 21 }, (_, i) => `c-${i + 1}`), "c-23"].sort(),
      );
      const denied = calls.find((c) => c.callId === "c-5");
      assert.deepEqual(denied?.reasons, [
        { rule: "international-barred", message: "international calling is off" },
      ]);
      assert.equal(denied?.decision, "deny");
      assert.equal((s3 as unknown as { callLog: { rejected: number } }).callLog.rejected, 1);
    } finally {
      await s3.close();
    }
  });

  it("indexed segments are deleted; the journal does not grow without end", async () => {
    const db = dbIn("mamori-journal-rotate-");
    for (let round = 0; round < 3; round++) {
      const s = new SqliteStore(db);
      for (let i = 0; i < 50; i++) await s.recordVerdict(verdict(round * 100 + i));
      assert.equal((await s.listCalls({ limit: 1000 })).length, (round + 1) * 50);
      await s.close();
    }
    const { journal } = callLogPaths(db);
    const left = readdirSync(journal).filter((f) => f.endsWith(".log"));
    assert.ok(left.length <= 1, `segments left: ${left.join(", ")}`);
  });

  it("a second process on the same database is refused while the first runs", async () => {
    const db = dbIn("mamori-journal-lock-");
    const s = new SqliteStore(db);
    try {
      await s.recordVerdict(verdict(1));
      const r = await child(
        `const { SqliteStore } = await import(process.env.STORE_URL);
         const s = new SqliteStore(process.env.DB);
         try { await s.listCalls({}); console.log("opened"); }
         catch (e) { console.log("refused:", e.message); }`,
        { STORE_URL: storeUrl, DB: db },
      );
      assert.match(r.out, /refused: the call journal .* belongs to a running Mamori \(process \d+\)/);
    } finally {
      await s.close();
    }
  });

  it("a refused write leaves the journal usable: the next record goes to a fresh segment", () => {
    const dir = mkdtempSync(join(tmpdir(), "mamori-journal-fail-"));
    const j = new CallJournal(dir);
    j.append(["a", "c-1", T0]);
    const first = j.position.segment;
    closeSync((j as unknown as { fd: number }).fd); // what a failing disk looks like to the writer
    assert.throws(() => j.append(["a", "c-2", T0]));
    j.append(["a", "c-3", T0]);
    assert.equal(j.position.segment, first + 1);
    assert.ok(existsSync(segmentPath(dir, first + 1)));
    j.close();
  });

  it("rotates to a new segment past the size limit", () => {
    const dir = mkdtempSync(join(tmpdir(), "mamori-journal-size-"));
    const j = new CallJournal(dir, 200);
    for (let i = 0; i < 20; i++) j.append(["h", `c-${i}`, T0, 30, 12.5]);
    assert.ok(listSegments(dir).length >= 3);
    j.close();
  });
});

describe("call journal records", () => {
  const text = fc.string({ maxLength: 40 });
  const num = fc.double({ noNaN: true, noDefaultInfinity: true });
  const op: fc.Arbitrary<CallLogOp> = fc.oneof(
    fc.tuple(
      fc.constant("v" as const),
      text,
      text,
      num,
      text,
      fc.option(text, { nil: null }),
      fc.option(text, { nil: null }),
      fc.constantFrom(0 as const, 1 as const),
      fc.constantFrom("allow", "deny"),
      text,
      num,
    ),
    fc.tuple(fc.constant("a" as const), text, num),
    fc.tuple(fc.constant("h" as const), text, num, num, num),
  );

  it("every record reads back as written", () => {
    fc.assert(
      fc.property(op, (o) => {
        assert.deepEqual(asCallLogOp(JSON.parse(JSON.stringify(o))), JSON.parse(JSON.stringify(o)));
      }),
    );
  });

  it("anything else is refused, never applied", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = asCallLogOp(v);
        if (r === undefined) return;
        // Only well-formed records get through.
        assert.ok(["v", "a", "h"].includes(r[0]));
        assert.equal(r.length, r[0] === "v" ? 11 : r[0] === "a" ? 3 : 5);
      }),
    );
    assert.equal(asCallLogOp(["v", "c", "a", 1]), undefined);
    assert.equal(asCallLogOp(["h", "c", 1, "30", 1]), undefined);
    assert.equal(asCallLogOp({ v: 1 }), undefined);
  });
});
