import type Database from "better-sqlite3";
import type { Verdict } from "../../../calls/verdict.js";

/**
 * The decision log: one row per call decision in the `calls` table, completed by the call's answer and
 * hang-up. The same records travel two ways: straight into SQLite (an in-memory store), or through the
 * append-only call journal (call-journal.ts) that a worker indexes into the call-log database file
 * (journal-indexer.ts). This file holds what both share: the record shapes and the SQL that applies them.
 */

/** A decision as the row it becomes, after its tag: call_id, account, at, dialled, e164, country, international, decision, reasons, estimated_cost. */
export type VerdictOp = readonly [
  "v",
  callId: string,
  account: string,
  at: number,
  dialled: string,
  e164: string | null,
  country: string | null,
  international: 0 | 1,
  decision: string,
  reasons: string,
  estimatedCost: number,
];

/** A journal record: a decision, an answer or a hang-up. */
export type CallLogOp =
  | VerdictOp
  | readonly ["a", callId: string, at: number]
  | readonly ["h", callId: string, at: number, billsec: number, cost: number];

export function verdictOp(v: Verdict): VerdictOp {
  const n = v.number;
  return [
    "v",
    v.callId,
    v.account,
    v.at,
    n?.input ?? "",
    n?.e164 ?? null,
    n?.country ?? null,
    n?.international ? 1 : 0,
    v.decision,
    v.reasons.length === 0 ? "[]" : JSON.stringify(v.reasons),
    v.estimatedCost,
  ];
}

export type CallWriters = {
  verdict(op: VerdictOp): void;
  answer(callId: string, at: number): void;
  hangup(callId: string, at: number, billsec: number, cost: number): void;
};

/** Prepared statements that apply call-log records; answer and hang-up are idempotent. */
export function callWriters(db: Database.Database): CallWriters {
  const insert = db.prepare(
    `INSERT OR REPLACE INTO calls (call_id, account, at, dialled, e164, country, international, decision, reasons, estimated_cost)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const answer = db.prepare(
    "UPDATE calls SET answered_at = ? WHERE call_id = ? AND answered_at IS NULL AND ended_at IS NULL",
  );
  const hangup = db.prepare(
    "UPDATE calls SET ended_at = ?, billsec = ?, cost = ? WHERE call_id = ? AND ended_at IS NULL",
  );
  return {
    verdict: (r) => insert.run(r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10]),
    answer: (callId, at) => answer.run(at, callId),
    hangup: (callId, at, billsec, cost) => hangup.run(at, billsec, cost, callId),
  };
}

export function applyOp(w: CallWriters, op: CallLogOp): void {
  if (op[0] === "v") w.verdict(op);
  else if (op[0] === "a") w.answer(op[1], op[2]);
  else w.hangup(op[1], op[2], op[3], op[4]);
}

/**
 * Checks a journal line parsed from disk. The journal is written only by Mamori, but a file can be
 * cut short by a crash or damaged on disk: such a line is counted and skipped, never applied.
 */
export function asCallLogOp(x: unknown): CallLogOp | undefined {
  if (!Array.isArray(x)) return undefined;
  const str = (i: number) => typeof x[i] === "string";
  const num = (i: number) => typeof x[i] === "number" && Number.isFinite(x[i]);
  const strOrNull = (i: number) => x[i] === null || typeof x[i] === "string";
  switch (x[0]) {
    case "v":
      return x.length === 11 &&
        str(1) &&
        str(2) &&
        num(3) &&
        str(4) &&
        strOrNull(5) &&
        strOrNull(6) &&
        (x[7] === 0 || x[7] === 1) &&
        (x[8] === "allow" || x[8] === "deny") &&
        str(9) &&
        num(10)
        ? (x as unknown as CallLogOp)
        : undefined;
    case "a":
      return x.length === 3 && str(1) && num(2) ? (x as unknown as CallLogOp) : undefined;
    case "h":
      return x.length === 5 && str(1) && num(2) && num(3) && num(4) ? (x as unknown as CallLogOp) : undefined;
    default:
      return undefined;
  }
}

/**
 * The call-log database beside the main one (`mamori.db` → `mamori.calls.db`) and the journal
 * directory (`mamori.journal/`). Kept in a file of its own so that the worker's commits never hold
 * the lock that the main thread needs for alerts, blocks and bans.
 */
export function callLogPaths(dbPath: string): { db: string; journal: string } {
  const base = dbPath.endsWith(".db") ? dbPath.slice(0, -3) : dbPath;
  return { db: `${base}.calls.db`, journal: `${base}.journal` };
}

/** Migrations of the call-log database (PRAGMA user_version), append only. */
export const callLogMigrations: readonly string[] = [
  `
  CREATE TABLE calls (
    call_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    at INTEGER NOT NULL,
    dialled TEXT NOT NULL,
    e164 TEXT,
    country TEXT,
    international INTEGER NOT NULL,
    decision TEXT NOT NULL,
    reasons TEXT NOT NULL,
    estimated_cost REAL NOT NULL,
    answered_at INTEGER,
    ended_at INTEGER,
    billsec REAL,
    cost REAL
  );
  CREATE INDEX calls_account_at ON calls(account, at);
  CREATE INDEX calls_at ON calls(at);
  CREATE INDEX calls_open ON calls(at) WHERE ended_at IS NULL AND decision = 'allow';
  CREATE TABLE journal_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    segment INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    rejected INTEGER NOT NULL DEFAULT 0
  );
  INSERT INTO journal_state (id, segment, offset) VALUES (1, 0, 0);
  `,
];

export function migrateCallLog(db: Database.Database): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  for (let i = version; i < callLogMigrations.length; i++) {
    db.transaction(() => {
      db.exec(callLogMigrations[i] ?? "");
      db.pragma(`user_version = ${i + 1}`);
    })();
  }
}
