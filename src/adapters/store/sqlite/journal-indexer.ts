import { closeSync, existsSync, openSync, readSync, unlinkSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { before, type JournalPosition, listSegments, segmentPath } from "./call-journal.js";
import { applyOp, asCallLogOp, type CallLogOp, callWriters, migrateCallLog } from "./call-log.js";

/**
 * Runs in a worker thread: reads the call journal behind the thread that answers the switches and
 * indexes it into the call-log database, a chunk of the journal per transaction, with the position it
 * reached saved in the same transaction (so each record is applied once, even across a crash). Fully
 * indexed segments are deleted. Asked to `sync`, it indexes up to the given position and says so; the
 * store asks before every read of the call log.
 */
export type IndexerRequest =
  | { readonly type: "sync"; readonly id: number; readonly upTo: JournalPosition }
  | { readonly type: "prune"; readonly id: number; readonly before: number }
  | { readonly type: "stop"; readonly id: number };

export type IndexerReply =
  | { readonly type: "done"; readonly id: number; readonly changes?: number; readonly rejected: number }
  | { readonly type: "failed"; readonly id: number; readonly message: string }
  | { readonly type: "error"; readonly message: string };

const { dbPath, dir, pollMs } = workerData as { dbPath: string; dir: string; pollMs: number };
const CHUNK = 1024 * 1024;

const db = new Database(dbPath);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.pragma("busy_timeout = 5000");
migrateCallLog(db);
const writers = callWriters(db);
const saveState = db.prepare("UPDATE journal_state SET segment = ?, offset = ?, rejected = ? WHERE id = 1");
const state = db.prepare("SELECT segment, offset, rejected FROM journal_state WHERE id = 1").get() as {
  segment: number;
  offset: number;
  rejected: number;
};
let pos: JournalPosition = { segment: state.segment, offset: state.offset };
let rejected = state.rejected;
const buf = Buffer.allocUnsafe(CHUNK);

const commit = db.transaction((ops: readonly CallLogOp[], to: JournalPosition, bad: number) => {
  for (const op of ops) applyOp(writers, op);
  saveState.run(to.segment, to.offset, rejected + bad);
});

function parseLines(text: string): { ops: CallLogOp[]; bad: number } {
  const ops: CallLogOp[] = [];
  let bad = 0;
  let start = 0;
  for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
    const line = text.slice(start, nl);
    start = nl + 1;
    let op: CallLogOp | undefined;
    try {
      op = asCallLogOp(JSON.parse(line));
    } catch {
      op = undefined;
    }
    if (op) ops.push(op);
    else bad++;
  }
  return { ops, bad };
}

/** Complete lines of the current segment from `pos`, up to CHUNK bytes. */
function readChunk(segment: number, offset: number): { text: string; bytes: number } | undefined {
  const path = segmentPath(dir, segment);
  if (!existsSync(path)) return undefined;
  const fd = openSync(path, "r");
  try {
    const n = readSync(fd, buf, 0, CHUNK, offset);
    if (n === 0) return { text: "", bytes: 0 };
    const end = buf.lastIndexOf(10, n - 1);
    // No record is near a megabyte long: a chunk with no line end is damage; skip it as one bad line.
    if (end === -1) return n === CHUNK ? { text: "\n", bytes: CHUNK } : { text: "", bytes: 0 };
    return { text: buf.toString("utf8", 0, end + 1), bytes: end + 1 };
  } finally {
    closeSync(fd);
  }
}

/** One step forward; false when there is nothing more to index now. */
function step(): boolean {
  const chunk = readChunk(pos.segment, pos.offset);
  if (chunk && chunk.bytes > 0) {
    const { ops, bad } = parseLines(chunk.text);
    const to = { segment: pos.segment, offset: pos.offset + chunk.bytes };
    commit(ops, to, bad);
    rejected += bad;
    pos = to;
    return true;
  }
  // Nothing complete here. The writer creates the next segment only after its last write to this one,
  // so once a later segment exists, one more read sees all there will ever be in this one.
  const later = listSegments(dir).find((s) => s > pos.segment);
  if (later === undefined) return false;
  const last = readChunk(pos.segment, pos.offset);
  if (last && last.bytes > 0) return step();
  const torn = tornBytes(pos.segment, pos.offset);
  const to = { segment: later, offset: 0 };
  commit([], to, torn > 0 ? 1 : 0);
  if (torn > 0) rejected++;
  const done = pos.segment;
  pos = to;
  removeSegmentsBefore(pos.segment, done);
  return true;
}

function tornBytes(segment: number, offset: number): number {
  const path = segmentPath(dir, segment);
  if (!existsSync(path)) return 0;
  const fd = openSync(path, "r");
  try {
    return readSync(fd, buf, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

function removeSegmentsBefore(segment: number, ...also: number[]): void {
  for (const s of new Set([...listSegments(dir).filter((x) => x < segment), ...also])) {
    try {
      unlinkSync(segmentPath(dir, s));
    } catch {
      // gone already
    }
  }
}

function drain(upTo?: JournalPosition): void {
  // Bounded: each step consumes journal bytes or moves to a later segment, and both are finite.
  while ((!upTo || before(pos, upTo)) && step()) {}
}

function reply(m: IndexerReply): void {
  parentPort?.postMessage(m);
}

removeSegmentsBefore(pos.segment);
let failing = false;
const timer = setInterval(() => {
  try {
    drain();
    failing = false;
  } catch (err) {
    if (!failing) reply({ type: "error", message: (err as Error).message });
    failing = true;
  }
}, pollMs);

parentPort?.on("message", (m: IndexerRequest) => {
  try {
    if (m.type === "sync") {
      drain(m.upTo);
      reply({ type: "done", id: m.id, rejected });
    } else if (m.type === "prune") {
      drain();
      const changes = db
        .prepare("DELETE FROM calls WHERE at < ? AND (ended_at IS NOT NULL OR decision = 'deny')")
        .run(m.before).changes;
      reply({ type: "done", id: m.id, changes, rejected });
    } else if (m.type === "stop") {
      clearInterval(timer);
      drain();
      db.pragma("wal_checkpoint(PASSIVE)");
      db.close();
      reply({ type: "done", id: m.id, rejected });
    }
  } catch (err) {
    reply({ type: "failed", id: m.id, message: (err as Error).message });
  }
});
