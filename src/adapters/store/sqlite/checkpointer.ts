import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

/**
 * Runs in a worker thread: copies the WAL back into the database file now and then. A checkpoint
 * fsyncs the database, which on a busy disk can take hundreds of milliseconds; done by SQLite's
 * automatic checkpoint it would run inside a commit on the main thread and stall every call decision
 * waiting behind it. PASSIVE never blocks the writer: it copies what it can and tries again later.
 */
const { path, everyMs } = workerData as { path: string; everyMs: number };
const db = new Database(path);
db.pragma("busy_timeout = 1000");
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (err) {
    parentPort?.postMessage({ type: "error", message: (err as Error).message });
  }
}, everyMs);
parentPort?.on("message", (m: unknown) => {
  if ((m as { type?: string })?.type === "stop") {
    clearInterval(timer);
    try {
      db.pragma("wal_checkpoint(PASSIVE)");
    } finally {
      db.close();
      parentPort?.postMessage({ type: "stopped" });
    }
  }
});
