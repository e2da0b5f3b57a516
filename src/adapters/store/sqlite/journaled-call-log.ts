import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { MamoriError } from "../../../core/errors.js";
import { before, CallJournal, type JournalPosition } from "./call-journal.js";
import type { CallLogOp } from "./call-log.js";
import type { IndexerReply, IndexerRequest } from "./journal-indexer.js";

type Ask = IndexerRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;
type Done = Extract<IndexerReply, { type: "done" }>;

/**
 * The call log of a file-backed store, seen from the thread that answers: records go to the journal at
 * once, and the indexer worker is asked to catch up before the log is read. One process at a time may
 * own a journal; a second `mamori serve` on the same database is refused with the first one's pid.
 */
export class JournaledCallLog {
  private readonly journal: CallJournal;
  private readonly lockPath: string;
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, { resolve: (r: Done) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private indexedTo: JournalPosition = { segment: 0, offset: 0 };
  /** Journal lines the indexer could not read (a line cut short by a crash, damage on disk). */
  rejected = 0;
  /** The indexer's last complaint, until it next succeeds. */
  lastError: string | undefined;

  constructor(
    private readonly paths: { db: string; journal: string },
    private readonly pollMs = 250,
  ) {
    this.lockPath = join(paths.journal, "LOCK");
    mkdirSync(paths.journal, { recursive: true });
    claim(this.lockPath, paths.journal);
    this.journal = new CallJournal(paths.journal);
    this.start();
  }

  /** Appends records before the callers answer; throws when the kernel refuses the write. */
  appendAll(ops: readonly CallLogOp[]): void {
    this.journal.appendAll(ops);
  }

  /** Resolves once everything appended so far is in the call-log database. */
  async sync(): Promise<void> {
    const upTo = this.journal.position;
    if (!before(this.indexedTo, upTo)) return;
    await this.ask({ type: "sync", upTo });
    if (before(this.indexedTo, upTo)) this.indexedTo = upTo;
  }

  async prune(beforeAt: number): Promise<number> {
    return (await this.ask({ type: "prune", before: beforeAt })).changes ?? 0;
  }

  async close(): Promise<void> {
    this.journal.close();
    const w = this.worker;
    if (w) {
      await Promise.race([
        this.ask({ type: "stop" }).catch(() => undefined),
        new Promise((r) => setTimeout(r, 5000).unref()),
      ]);
      this.worker = undefined;
      await w.terminate();
    }
    rmSync(this.lockPath, { force: true });
  }

  private ask(req: Ask): Promise<Done> {
    if (!this.worker) this.start();
    const w = this.worker as Worker;
    const id = this.nextId++;
    return new Promise<Done>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.postMessage({ ...req, id } as IndexerRequest);
    });
  }

  private start(): void {
    const url = new URL(
      `./journal-indexer${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`,
      import.meta.url,
    );
    const w = new Worker(url, {
      workerData: { dbPath: this.paths.db, dir: this.paths.journal, pollMs: this.pollMs },
    });
    w.unref();
    w.on("message", (m: IndexerReply) => {
      if (m.type === "error") {
        this.lastError = m.message;
        return;
      }
      const p = this.waiting.get(m.id);
      if (!p) return;
      this.waiting.delete(m.id);
      if (m.type === "done") {
        this.rejected = m.rejected;
        this.lastError = undefined;
        p.resolve(m);
      } else {
        this.lastError = m.message;
        p.reject(new Error(`call log: ${m.message}`));
      }
    });
    const gone = (err: Error) => {
      if (this.worker === w) this.worker = undefined;
      this.lastError = err.message;
      for (const p of this.waiting.values()) p.reject(err);
      this.waiting.clear();
    };
    w.on("error", gone);
    w.on("exit", (code) => gone(new Error(`call log indexer stopped (exit code ${code})`)));
    this.worker = w;
  }
}

/** Takes the journal for this process, unless a live process holds it. */
function claim(lockPath: string, dir: string): void {
  let holder = 0;
  try {
    holder = Number(readFileSync(lockPath, "utf8").trim());
  } catch {
    holder = 0;
  }
  if (holder > 0 && holder !== process.pid && alive(holder))
    throw new MamoriError(
      "MAMORI_CONFLICT",
      `the call journal ${dir} belongs to a running Mamori (process ${holder}); one service per database`,
    );
  writeFileSync(lockPath, String(process.pid));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
