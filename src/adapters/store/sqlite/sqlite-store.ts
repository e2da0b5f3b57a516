import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import type { AccountPolicy } from "../../../calls/policy.js";
import type { Alert, Block, Verdict } from "../../../calls/verdict.js";
import type {
  AccountFlagRow,
  AlertFilter,
  ApiKeyRecord,
  AttackRow,
  AuditEntry,
  Ban,
  BanFilter,
  BanRecord,
  BlockFilter,
  BlockRecord,
  CallFilter,
  CallHistoryRow,
  CallRow,
  Delivery,
  Guard,
  LearnedPlaceRow,
  MitigationRow,
  Page,
  Store,
  StoredAlert,
} from "../store.js";
import {
  applyOp,
  type CallLogOp,
  type CallWriters,
  callLogPaths,
  callWriters,
  migrateCallLog,
  verdictOp,
} from "./call-log.js";
import { JournaledCallLog } from "./journaled-call-log.js";
import { migrations } from "./schema.js";

/**
 * The embedded default store: one SQLite file, WAL journal. better-sqlite3 is synchronous; the async
 * port just wraps the results. synchronous=NORMAL in WAL mode survives a process crash (not a power
 * cut of the last commits), the usual trade for a decision log written at thousands of rows a second.
 *
 * The decision log (`calls`) of a store kept in a file lives beside it: decisions, answers and hang-ups
 * are appended to the call journal before the switch hears the answer, and a worker indexes them into
 * `<name>.calls.db` (see call-journal.ts for why); reads of the log wait until it has caught up. An
 * in-memory store writes its `calls` table directly.
 */
type Row = Record<string, unknown>;

const json = (v: unknown): string => JSON.stringify(v ?? null);
const parse = <T>(s: unknown): T => JSON.parse(String(s)) as T;
const MAX_BATCH = 512;

/**
 * A call-path write waiting for the group commit: a call-log record and, for a decision that caused
 * any, its effects (alerts, a block, a learned country), stored in the same commit.
 */
type Queued = {
  readonly op: CallLogOp;
  readonly effects: Verdict | undefined;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
};

const DONE: Promise<void> = Promise.resolve();

const limitOf = (p: Page): number => Math.min(Math.max(p.limit ?? 100, 1), 1000);

/** Builds a WHERE clause from the filters that are set. */
class Where {
  readonly parts: string[] = [];
  readonly args: unknown[] = [];
  add(condition: string, ...values: unknown[]): this {
    if (values.every((v) => v !== undefined)) {
      this.parts.push(condition);
      this.args.push(...values);
    }
    return this;
  }
  get sql(): string {
    return this.parts.length ? "WHERE " + this.parts.join(" AND ") : "";
  }
}

export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly db: Database.Database;
  private readonly st;
  private readonly batchTx: Database.Transaction<(batch: readonly Queued[]) => void>;
  /** Call-path writes waiting for the next group commit. */
  private queue: Queued[] = [];
  private flushScheduled = false;

  /** The decision log's own database and journal, for a store kept in a file. */
  private readonly logPaths: { db: string; journal: string } | undefined;
  private callLog: JournaledCallLog | undefined;
  /** Writes to the `calls` table of an in-memory store. */
  private readonly direct: CallWriters | undefined;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.pragma("foreign_keys = ON");
    this.migrate();
    const inFile = path !== ":memory:" && path !== "";
    if (inFile) {
      this.startCheckpointer(path);
      this.logPaths = callLogPaths(path);
      this.attachCallLog(this.logPaths.db);
    } else this.direct = callWriters(this.db);
    const db = this.db;
    this.st = {
      seen: db.prepare("INSERT OR IGNORE INTO seen_countries (account, country, first_at) VALUES (?, ?, ?)"),
      insertAlert: db.prepare(
        `INSERT INTO alerts (guard, at, rule, severity, account, call_id, decision, message, evidence)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertBlock: db.prepare(
        `INSERT OR REPLACE INTO blocks (id, account, scope, created_at, until, rule, reason, evidence, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      audit: db.prepare("INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)"),
    };
    this.batchTx = db.transaction((batch: readonly Queued[]) => {
      for (const q of batch) {
        if (this.direct) applyOp(this.direct, q.op);
        if (q.effects) this.writeEffects(q.effects);
      }
    });
  }

  /**
   * Opens the call-log database (created and migrated on a connection of its own) and attaches it for
   * reading: `calls` then names its table. A database from a version that kept the log in the main
   * file has it moved over once; the copy ignores rows already there, so a crash halfway repeats it
   * harmlessly.
   */
  private attachCallLog(logDb: string): void {
    const c = new Database(logDb);
    try {
      c.pragma("journal_mode = WAL");
      migrateCallLog(c);
    } finally {
      c.close();
    }
    this.db.prepare("ATTACH DATABASE ? AS log").run(logDb);
    const old = this.db
      .prepare("SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'calls'")
      .get();
    if (old) {
      this.db.exec("INSERT OR IGNORE INTO log.calls SELECT * FROM main.calls; DROP TABLE main.calls;");
    }
  }

  /** The journal and its indexer, started on first use (a `mamori keys` run never needs them). */
  private journaled(): JournaledCallLog | undefined {
    if (!this.callLog && this.logPaths) this.callLog = new JournaledCallLog(this.logPaths);
    return this.callLog;
  }

  /** Waits until every call-log record written so far can be read. */
  private async syncCallLog(): Promise<void> {
    this.flush();
    await this.journaled()?.sync();
  }

  private checkpointer: Worker | undefined;

  /** Moves WAL checkpoints (and their fsync) off the decision path; see checkpointer.ts. */
  private startCheckpointer(path: string): void {
    const url = new URL(`./checkpointer${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url);
    try {
      this.checkpointer = new Worker(url, { workerData: { path, everyMs: 1000 } });
      this.checkpointer.unref();
      this.checkpointer.on("error", () => this.fallBackToAutoCheckpoint());
      this.db.pragma("wal_autocheckpoint = 0");
    } catch {
      this.fallBackToAutoCheckpoint();
    }
  }

  private fallBackToAutoCheckpoint(): void {
    this.checkpointer = undefined;
    if (this.db.open) this.db.pragma("wal_autocheckpoint = 1000");
  }

  private migrate(): void {
    const version = this.db.pragma("user_version", { simple: true }) as number;
    for (let i = version; i < migrations.length; i++) {
      this.db.transaction(() => {
        this.db.exec(migrations[i] ?? "");
        this.db.pragma(`user_version = ${i + 1}`);
      })();
    }
  }

  // ---- accounts

  async listAccounts(): Promise<AccountPolicy[]> {
    this.flush();
    return this.db
      .prepare("SELECT policy FROM accounts ORDER BY id")
      .all()
      .map((r) => parse<AccountPolicy>((r as Row).policy));
  }

  async getAccount(id: string): Promise<AccountPolicy | undefined> {
    this.flush();
    const r = this.db.prepare("SELECT policy FROM accounts WHERE id = ?").get(id) as Row | undefined;
    return r ? parse<AccountPolicy>(r.policy) : undefined;
  }

  async putAccount(policy: AccountPolicy, actor: string, at: number): Promise<"created" | "updated"> {
    this.flush();
    return this.db.transaction(() => {
      const existed = this.db.prepare("SELECT 1 FROM accounts WHERE id = ?").get(policy.id) !== undefined;
      this.db
        .prepare(
          "INSERT INTO accounts (id, policy, updated_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at",
        )
        .run(policy.id, json(policy), at);
      this.st.audit.run(
        at,
        actor,
        existed ? "account.update" : "account.create",
        policy.id,
        json({ policy }),
      );
      return existed ? ("updated" as const) : ("created" as const);
    })();
  }

  async deleteAccount(id: string, actor: string, at: number): Promise<boolean> {
    this.flush();
    return this.db.transaction(() => {
      const n = this.db.prepare("DELETE FROM accounts WHERE id = ?").run(id).changes;
      if (n > 0) this.st.audit.run(at, actor, "account.delete", id, "{}");
      return n > 0;
    })();
  }

  // ---- calls

  /** What a decision caused besides its call-log row: a learned country, alerts, a block. */
  private writeEffects(v: Verdict): void {
    if (v.learnedCountry) this.st.seen.run(v.account, v.learnedCountry, v.at);
    for (const a of v.alerts) this.insertAlert(a, "calls");
    if (v.block) {
      this.insertBlockRow(v.block);
      this.st.audit.run(
        v.at,
        "engine",
        "block.create",
        v.account,
        json({ blockId: v.block.id, rule: v.block.rule, reason: v.block.reason, until: v.block.until }),
      );
    }
  }

  /*
   * Group commit. One write costs about the same whatever it holds, so the call path (decisions,
   * answers, hang-ups) queues its records and writes them together at the end of the event-loop turn
   * (or every MAX_BATCH records): one append to the call journal, and one SQLite transaction for the
   * few that also change the main database. Each caller's promise resolves only after the write that
   * holds its record, so a decision is still stored before the switch hears it. The answers then leave
   * together too, which over loopback costs the kernel less than one at a time (measured in bench/).
   */
  private enqueue(op: CallLogOp, effects?: Verdict): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ op, effects, resolve, reject });
      if (this.queue.length >= MAX_BATCH) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flushSoon);
      }
    });
  }

  private readonly flushSoon = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /** Commits what is queued now. Other writes call it first, so they never overtake a queued decision. */
  flush(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    try {
      const log = this.journaled();
      if (log) {
        // Call-log records go to the journal in one write; the few effects commit to the main file.
        log.appendAll(batch.map((q) => q.op));
        const effects = batch.filter((q) => q.effects !== undefined);
        if (effects.length > 0) this.batchTx(effects);
      } else this.batchTx(batch);
    } catch (err) {
      for (const q of batch) q.reject(err);
      return;
    }
    for (const q of batch) q.resolve();
  }

  /**
   * A decision, with what it caused (alerts, a block, a learned country), joins the next group commit;
   * the promise resolves once it is in the call journal (or the `calls` table of an in-memory store)
   * and its effects are in the main database.
   */
  recordVerdict(v: Verdict): Promise<void> {
    if (v.repeat) return DONE;
    return this.enqueue(
      verdictOp(v),
      v.alerts.length > 0 || v.block !== undefined || v.learnedCountry !== undefined ? v : undefined,
    );
  }

  recordAnswer(callId: string, at: number): Promise<void> {
    return this.enqueue(["a", callId, at]);
  }

  recordHangup(callId: string, at: number, billsec: number, cost: number): Promise<void> {
    return this.enqueue(["h", callId, at, billsec, cost]);
  }

  async openCalls(since: number): Promise<CallRow[]> {
    await this.syncCallLog();
    return this.db
      .prepare("SELECT * FROM calls WHERE ended_at IS NULL AND decision = 'allow' AND at >= ? ORDER BY at")
      .all(since)
      .map((r) => callRow(r as Row));
  }

  async listCalls(f: CallFilter): Promise<CallRow[]> {
    await this.syncCallLog();
    const w = new Where();
    w.add("account = ?", f.account);
    w.add("decision = ?", f.decision);
    w.add("at >= ?", f.since);
    w.add("at < ?", f.before);
    const sql = `SELECT * FROM calls ${w.sql} ORDER BY at DESC LIMIT ?`;
    return this.db
      .prepare(sql)
      .all(...w.args, limitOf(f))
      .map((r) => callRow(r as Row));
  }

  async callHistory(account: string, since: number, bucketMs: number): Promise<CallHistoryRow[]> {
    await this.syncCallLog();
    return this.db
      .prepare(
        `SELECT CAST(at / @bucket AS INTEGER) * @bucket AS bucket, COALESCE(country, '?') AS country, MAX(international) AS intl,
           SUM(decision = 'allow') AS allowed, SUM(decision = 'deny') AS denied,
           SUM(CASE WHEN decision = 'allow' THEN COALESCE(cost, estimated_cost) ELSE 0 END) AS cost
         FROM calls WHERE account = @account AND at >= @since GROUP BY bucket, country ORDER BY bucket, country`,
      )
      .all({ bucket: Math.max(1, Math.floor(bucketMs)), account, since })
      .map((r) => {
        const x = r as Row;
        return {
          at: Number(x.bucket),
          country: String(x.country),
          international: Number(x.intl) === 1,
          allowed: Number(x.allowed),
          denied: Number(x.denied),
          cost: Number(x.cost),
        };
      });
  }

  async pruneCalls(before: number): Promise<number> {
    this.flush();
    const log = this.journaled();
    if (log) return log.prune(before);
    return this.db
      .prepare("DELETE FROM calls WHERE at < ? AND (ended_at IS NOT NULL OR decision = 'deny')")
      .run(before).changes;
  }

  async seenCountries(): Promise<{ account: string; country: string; firstAt: number }[]> {
    this.flush();
    return this.db
      .prepare("SELECT account, country, first_at FROM seen_countries")
      .all()
      .map((r) => {
        const x = r as Row;
        return { account: String(x.account), country: String(x.country), firstAt: Number(x.first_at) };
      });
  }

  // ---- alerts

  private insertAlert(a: Alert, guard: Guard): number {
    const info = this.st.insertAlert.run(
      guard,
      a.at,
      a.rule,
      a.severity,
      a.account,
      a.callId ?? null,
      a.decision,
      a.message,
      json(a.evidence),
    );
    return Number(info.lastInsertRowid);
  }

  async insertAlerts(alerts: readonly Alert[], guard: Guard): Promise<number[]> {
    this.flush();
    return this.db.transaction(() => alerts.map((a) => this.insertAlert(a, guard)))();
  }

  async listAlerts(f: AlertFilter): Promise<StoredAlert[]> {
    this.flush();
    const w = new Where();
    w.add("account = ?", f.account);
    w.add("rule = ?", f.rule);
    w.add("severity = ?", f.severity);
    w.add("guard = ?", f.guard);
    w.add("at >= ?", f.since);
    w.add("id < ?", f.before);
    const sql = `SELECT * FROM alerts ${w.sql} ORDER BY id DESC LIMIT ?`;
    return this.db
      .prepare(sql)
      .all(...w.args, limitOf(f))
      .map((r) => {
        const x = r as Row;
        return {
          id: Number(x.id),
          guard: String(x.guard) as Guard,
          at: Number(x.at),
          rule: String(x.rule),
          severity: String(x.severity) as Alert["severity"],
          account: String(x.account),
          callId: x.call_id === null ? undefined : String(x.call_id),
          decision: String(x.decision) as Alert["decision"],
          message: String(x.message),
          evidence: parse<Record<string, unknown>>(x.evidence),
        };
      });
  }

  // ---- blocks

  private insertBlockRow(b: Block): void {
    this.st.insertBlock.run(
      b.id,
      b.account,
      b.scope,
      b.createdAt,
      b.until,
      b.rule,
      b.reason,
      json(b.evidence),
      b.createdBy,
    );
  }

  async insertBlock(b: Block): Promise<void> {
    this.flush();
    this.db.transaction(() => {
      this.insertBlockRow(b);
      this.st.audit.run(
        b.createdAt,
        b.createdBy,
        "block.create",
        b.account,
        json({ blockId: b.id, rule: b.rule, reason: b.reason, until: b.until }),
      );
    })();
  }

  async getBlock(id: string): Promise<BlockRecord | undefined> {
    this.flush();
    const r = this.db.prepare("SELECT * FROM blocks WHERE id = ?").get(id) as Row | undefined;
    return r ? blockRow(r) : undefined;
  }

  async listBlocks(f: BlockFilter): Promise<BlockRecord[]> {
    this.flush();
    const w = new Where();
    w.add("account = ?", f.account);
    w.add("lifted_at IS NULL AND created_at <= ? AND (until IS NULL OR until > ?)", f.activeAt, f.activeAt);
    w.add("created_at < ?", f.before);
    const sql = `SELECT * FROM blocks ${w.sql} ORDER BY created_at DESC LIMIT ?`;
    return this.db
      .prepare(sql)
      .all(...w.args, limitOf(f))
      .map((r) => blockRow(r as Row));
  }

  async liftBlock(id: string, actor: string, reason: string, at: number): Promise<boolean> {
    this.flush();
    return this.db.transaction(() => {
      const n = this.db
        .prepare(
          "UPDATE blocks SET lifted_at = ?, lifted_by = ?, lift_reason = ? WHERE id = ? AND lifted_at IS NULL",
        )
        .run(at, actor, reason, id).changes;
      if (n > 0) {
        const b = this.db.prepare("SELECT account FROM blocks WHERE id = ?").get(id) as Row;
        this.st.audit.run(at, actor, "block.lift", String(b.account), json({ blockId: id, reason }));
      }
      return n > 0;
    })();
  }

  // ---- bans

  async insertBan(b: Ban): Promise<void> {
    this.flush();
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT OR REPLACE INTO bans (id, guard, address, created_at, until, rule, reason, severity, evidence, offence, created_by)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          b.id,
          b.guard,
          b.address,
          b.createdAt,
          b.until,
          b.rule,
          b.reason,
          b.severity,
          json(b.evidence),
          b.offence,
          b.createdBy,
        );
      this.st.audit.run(
        b.createdAt,
        b.createdBy,
        "ban.create",
        b.address,
        json({
          banId: b.id,
          guard: b.guard,
          rule: b.rule,
          reason: b.reason,
          until: b.until,
          offence: b.offence,
        }),
      );
    })();
  }

  async getBan(id: string): Promise<BanRecord | undefined> {
    this.flush();
    const r = this.db.prepare("SELECT * FROM bans WHERE id = ?").get(id) as Row | undefined;
    return r ? banRow(r) : undefined;
  }

  async listBans(f: BanFilter): Promise<BanRecord[]> {
    this.flush();
    const w = new Where()
      .add("address = ?", f.address)
      .add("guard = ?", f.guard)
      .add("lifted_at IS NULL AND created_at <= ? AND (until IS NULL OR until > ?)", f.activeAt, f.activeAt)
      .add("created_at < ?", f.before);
    return this.db
      .prepare(`SELECT * FROM bans ${w.sql} ORDER BY created_at DESC LIMIT ?`)
      .all(...w.args, limitOf(f))
      .map((r) => banRow(r as Row));
  }

  async liftBan(id: string, actor: string, reason: string, at: number): Promise<boolean> {
    this.flush();
    return this.db.transaction(() => {
      const n = this.db
        .prepare(
          "UPDATE bans SET lifted_at = ?, lifted_by = ?, lift_reason = ? WHERE id = ? AND lifted_at IS NULL",
        )
        .run(at, actor, reason, id).changes;
      if (n > 0) {
        const b = this.db.prepare("SELECT address FROM bans WHERE id = ?").get(id) as Row;
        this.st.audit.run(at, actor, "ban.lift", String(b.address), json({ banId: id, reason }));
      }
      return n > 0;
    })();
  }

  async banOffences(since: number): Promise<{ address: string; count: number; lastAt: number }[]> {
    this.flush();
    return this.db
      .prepare(
        "SELECT address, COUNT(*) AS n, MAX(created_at) AS last FROM bans WHERE created_at >= ? GROUP BY address",
      )
      .all(since)
      .map((r) => {
        const x = r as Row;
        return { address: String(x.address), count: Number(x.n), lastAt: Number(x.last) };
      });
  }

  async addLearnedPlaces(places: readonly LearnedPlaceRow[]): Promise<void> {
    this.flush();
    const ins = this.db.prepare(
      "INSERT OR IGNORE INTO learned_places (account, kind, value, first_at) VALUES (?, ?, ?, ?)",
    );
    this.db.transaction(() => {
      for (const p of places) ins.run(p.account, p.kind, p.value, p.firstAt);
    })();
  }

  async learnedPlaces(): Promise<LearnedPlaceRow[]> {
    this.flush();
    return this.db
      .prepare("SELECT * FROM learned_places")
      .all()
      .map((r) => {
        const x = r as Row;
        return {
          account: String(x.account),
          kind: String(x.kind) as "network" | "country",
          value: String(x.value),
          firstAt: Number(x.first_at),
        };
      });
  }

  async insertAccountFlags(flags: readonly AccountFlagRow[]): Promise<void> {
    this.flush();
    const ins = this.db.prepare(
      "INSERT INTO account_flags (at, account, type, rule, severity, reason, evidence) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    this.db.transaction(() => {
      for (const f of flags) ins.run(f.at, f.account, f.type, f.rule, f.severity, f.reason, json(f.evidence));
    })();
  }

  async listAccountFlags(
    f: Page & { account?: string | undefined },
  ): Promise<(AccountFlagRow & { id: number })[]> {
    this.flush();
    const w = new Where().add("account = ?", f.account).add("id < ?", f.before);
    return this.db
      .prepare(`SELECT * FROM account_flags ${w.sql} ORDER BY id DESC LIMIT ?`)
      .all(...w.args, limitOf(f))
      .map((r) => {
        const x = r as Row;
        return {
          id: Number(x.id),
          at: Number(x.at),
          account: String(x.account),
          type: String(x.type),
          rule: String(x.rule),
          severity: String(x.severity) as "warning" | "critical",
          reason: String(x.reason),
          evidence: parse<Record<string, unknown>>(x.evidence),
        };
      });
  }

  // ---- flow guard: attacks and mitigations

  async upsertAttack(a: Omit<AttackRow, "doc"> & { doc: unknown }): Promise<void> {
    this.flush();
    this.db
      .prepare(
        `INSERT INTO attacks (id, victim, kind, started_at, updated_at, ended_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, updated_at = excluded.updated_at, ended_at = excluded.ended_at, doc = excluded.doc`,
      )
      .run(a.id, a.victim, a.kind, a.startedAt, a.updatedAt, a.endedAt, json(a.doc));
  }

  async listAttacks(f: Page & { active?: boolean | undefined }): Promise<AttackRow[]> {
    this.flush();
    const w = new Where().add("started_at < ?", f.before);
    if (f.active) w.parts.push("ended_at IS NULL");
    return this.db
      .prepare(`SELECT * FROM attacks ${w.sql} ORDER BY started_at DESC LIMIT ?`)
      .all(...w.args, limitOf(f))
      .map((r) => {
        const x = r as Row;
        return {
          id: String(x.id),
          victim: String(x.victim),
          kind: String(x.kind),
          startedAt: Number(x.started_at),
          updatedAt: Number(x.updated_at),
          endedAt: x.ended_at === null ? null : Number(x.ended_at),
          doc: parse(x.doc),
        };
      });
  }

  async upsertMitigation(
    m: Omit<MitigationRow, "withdrawnAt" | "withdrawnBy" | "withdrawReason">,
    actor: string,
  ): Promise<void> {
    this.flush();
    this.db.transaction(() => {
      const existed = this.db.prepare("SELECT 1 FROM mitigations WHERE id = ?").get(m.id) !== undefined;
      this.db
        .prepare(
          `INSERT INTO mitigations (id, attack_id, type, created_at, expires_at, doc) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET expires_at = excluded.expires_at, doc = excluded.doc,
             withdrawn_at = NULL, withdrawn_by = NULL, withdraw_reason = NULL`,
        )
        .run(m.id, m.attackId, m.type, m.createdAt, m.expiresAt, json(m.doc));
      if (!existed)
        this.st.audit.run(
          m.createdAt,
          actor,
          "mitigation.create",
          m.id,
          json({ type: m.type, attackId: m.attackId, expiresAt: m.expiresAt }),
        );
    })();
  }

  async listMitigations(f: Page & { activeAt?: number | undefined }): Promise<MitigationRow[]> {
    this.flush();
    const w = new Where()
      .add("withdrawn_at IS NULL AND expires_at > ?", f.activeAt)
      .add("created_at < ?", f.before);
    return this.db
      .prepare(`SELECT * FROM mitigations ${w.sql} ORDER BY created_at DESC LIMIT ?`)
      .all(...w.args, limitOf(f))
      .map((r) => mitigationRow(r as Row));
  }

  async getMitigation(id: string): Promise<MitigationRow | undefined> {
    this.flush();
    const r = this.db.prepare("SELECT * FROM mitigations WHERE id = ?").get(id) as Row | undefined;
    return r ? mitigationRow(r) : undefined;
  }

  async withdrawMitigation(id: string, actor: string, reason: string, at: number): Promise<boolean> {
    this.flush();
    return this.db.transaction(() => {
      const n = this.db
        .prepare(
          "UPDATE mitigations SET withdrawn_at = ?, withdrawn_by = ?, withdraw_reason = ? WHERE id = ? AND withdrawn_at IS NULL",
        )
        .run(at, actor, reason, id).changes;
      if (n > 0) this.st.audit.run(at, actor, "mitigation.withdraw", id, json({ reason }));
      return n > 0;
    })();
  }

  // ---- audit

  async appendAudit(e: Omit<AuditEntry, "id">): Promise<void> {
    this.flush();
    this.st.audit.run(e.at, e.actor, e.action, e.subject, json(e.detail));
  }

  async listAudit(
    f: Page & { actor?: string | undefined; subject?: string | undefined },
  ): Promise<AuditEntry[]> {
    this.flush();
    const w = new Where();
    w.add("actor = ?", f.actor);
    w.add("subject = ?", f.subject);
    w.add("id < ?", f.before);
    const sql = `SELECT * FROM audit ${w.sql} ORDER BY id DESC LIMIT ?`;
    return this.db
      .prepare(sql)
      .all(...w.args, limitOf(f))
      .map((r) => {
        const x = r as Row;
        return {
          id: Number(x.id),
          at: Number(x.at),
          actor: String(x.actor),
          action: String(x.action),
          subject: String(x.subject),
          detail: parse<Record<string, unknown>>(x.detail),
        };
      });
  }

  // ---- keys

  async insertKey(k: ApiKeyRecord): Promise<void> {
    this.flush();
    this.db
      .prepare(
        "INSERT INTO api_keys (id, name, role, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)",
      )
      .run(k.id, k.name, k.role, k.hash, k.createdAt, k.revokedAt);
  }

  async keyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    this.flush();
    const r = this.db.prepare("SELECT * FROM api_keys WHERE hash = ?").get(hash) as Row | undefined;
    return r ? keyRow(r) : undefined;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    this.flush();
    return this.db
      .prepare("SELECT * FROM api_keys ORDER BY created_at")
      .all()
      .map((r) => keyRow(r as Row));
  }

  async revokeKey(id: string, at: number): Promise<boolean> {
    this.flush();
    return (
      this.db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(at, id)
        .changes > 0
    );
  }

  // ---- webhook outbox

  async enqueueDeliveries(items: readonly { target: string; body: string }[], at: number): Promise<void> {
    this.flush();
    if (items.length === 0) return;
    const ins = this.db.prepare(
      "INSERT INTO deliveries (target, body, next_at, created_at) VALUES (?, ?, ?, ?)",
    );
    this.db.transaction(() => {
      for (const i of items) ins.run(i.target, i.body, at, at);
    })();
  }

  async dueDeliveries(at: number, limit: number): Promise<Delivery[]> {
    this.flush();
    return this.db
      .prepare(
        "SELECT id, target, body, attempts, next_at FROM deliveries WHERE state = 'pending' AND next_at <= ? ORDER BY next_at LIMIT ?",
      )
      .all(at, limit)
      .map((r) => {
        const x = r as Row;
        return {
          id: Number(x.id),
          target: String(x.target),
          body: String(x.body),
          attempts: Number(x.attempts),
          nextAt: Number(x.next_at),
        };
      });
  }

  async markDelivered(id: number): Promise<void> {
    this.flush();
    this.db
      .prepare("UPDATE deliveries SET state = 'delivered', attempts = attempts + 1 WHERE id = ?")
      .run(id);
  }

  async markRetry(id: number, nextAt: number | null, error: string): Promise<void> {
    this.flush();
    if (nextAt === null)
      this.db
        .prepare(
          "UPDATE deliveries SET state = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?",
        )
        .run(error, id);
    else
      this.db
        .prepare("UPDATE deliveries SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?")
        .run(nextAt, error, id);
  }

  async probeWrite(at: number): Promise<void> {
    this.flush();
    this.db
      .prepare("INSERT INTO health (id, at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET at = excluded.at")
      .run(at);
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.flush();
    await this.callLog?.close();
    this.callLog = undefined;
    const w = this.checkpointer;
    if (w) {
      this.checkpointer = undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        w.once("message", () => {
          clearTimeout(t);
          resolve();
        });
        w.once("exit", () => {
          clearTimeout(t);
          resolve();
        });
        w.postMessage({ type: "stop" });
      });
      await w.terminate();
    }
    this.db.close();
  }
}

function callRow(x: Row): CallRow {
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return {
    callId: String(x.call_id),
    account: String(x.account),
    at: Number(x.at),
    to: String(x.dialled),
    e164: x.e164 === null ? null : String(x.e164),
    country: x.country === null ? null : String(x.country),
    international: Number(x.international) === 1,
    decision: String(x.decision) as "allow" | "deny",
    reasons: parse(x.reasons),
    estimatedCost: Number(x.estimated_cost),
    answeredAt: num(x.answered_at),
    endedAt: num(x.ended_at),
    billsec: num(x.billsec),
    cost: num(x.cost),
  };
}

function blockRow(x: Row): BlockRecord {
  return {
    id: String(x.id),
    account: String(x.account),
    scope: "international",
    createdAt: Number(x.created_at),
    until: x.until === null ? null : Number(x.until),
    rule: String(x.rule),
    reason: String(x.reason),
    evidence: parse(x.evidence),
    createdBy: String(x.created_by),
    liftedAt: x.lifted_at === null ? null : Number(x.lifted_at),
    liftedBy: x.lifted_by === null ? null : String(x.lifted_by),
    liftReason: x.lift_reason === null ? null : String(x.lift_reason),
  };
}

function banRow(x: Row): BanRecord {
  return {
    id: String(x.id),
    guard: String(x.guard) as Guard,
    address: String(x.address),
    createdAt: Number(x.created_at),
    until: x.until === null ? null : Number(x.until),
    rule: String(x.rule),
    reason: String(x.reason),
    severity: String(x.severity) as "warning" | "critical",
    evidence: parse(x.evidence),
    offence: Number(x.offence),
    createdBy: String(x.created_by),
    liftedAt: x.lifted_at === null ? null : Number(x.lifted_at),
    liftedBy: x.lifted_by === null ? null : String(x.lifted_by),
    liftReason: x.lift_reason === null ? null : String(x.lift_reason),
  };
}

function mitigationRow(x: Row): MitigationRow {
  return {
    id: String(x.id),
    attackId: x.attack_id === null ? null : String(x.attack_id),
    type: String(x.type),
    createdAt: Number(x.created_at),
    expiresAt: Number(x.expires_at),
    withdrawnAt: x.withdrawn_at === null ? null : Number(x.withdrawn_at),
    withdrawnBy: x.withdrawn_by === null ? null : String(x.withdrawn_by),
    withdrawReason: x.withdraw_reason === null ? null : String(x.withdraw_reason),
    doc: parse(x.doc),
  };
}

function keyRow(x: Row): ApiKeyRecord {
  return {
    id: String(x.id),
    name: String(x.name),
    role: String(x.role) as ApiKeyRecord["role"],
    hash: String(x.hash),
    createdAt: Number(x.created_at),
    revokedAt: x.revoked_at === null ? null : Number(x.revoked_at),
  };
}
