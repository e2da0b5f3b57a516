import Database from "better-sqlite3";
import type { AccountPolicy } from "../../../calls/policy.js";
import type { Alert, Block, Verdict } from "../../../calls/verdict.js";
import type {
  AlertFilter,
  ApiKeyRecord,
  AuditEntry,
  BlockFilter,
  BlockRecord,
  CallFilter,
  CallRow,
  Delivery,
  Guard,
  Page,
  Store,
  StoredAlert,
} from "../store.js";
import { migrations } from "./schema.js";

/**
 * The embedded default store: one SQLite file, WAL journal. better-sqlite3 is synchronous, which keeps
 * a decision and everything it caused in one short transaction; the async port just wraps the results.
 * synchronous=NORMAL in WAL mode survives a process crash (not a power cut of the last commits), the
 * usual trade for a decision log written at thousands of rows a second.
 */
type Row = Record<string, unknown>;

const json = (v: unknown): string => JSON.stringify(v ?? null);
const parse = <T>(s: unknown): T => JSON.parse(String(s)) as T;
const limitOf = (p: Page): number => Math.min(Math.max(p.limit ?? 100, 1), 1000);

export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly db: Database.Database;
  private readonly st;
  private readonly verdictTx: Database.Transaction<(v: Verdict) => void>;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.pragma("foreign_keys = ON");
    this.migrate();
    const db = this.db;
    this.st = {
      insertCall: db.prepare(
        `INSERT OR REPLACE INTO calls (call_id, account, at, dialled, e164, country, international, decision, reasons, estimated_cost)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      answer: db.prepare("UPDATE calls SET answered_at = ? WHERE call_id = ? AND answered_at IS NULL AND ended_at IS NULL"),
      hangup: db.prepare(
        "UPDATE calls SET ended_at = ?, billsec = ?, cost = ? WHERE call_id = ? AND ended_at IS NULL",
      ),
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
    this.verdictTx = db.transaction((v: Verdict) => this.writeVerdict(v));
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
    return this.db
      .prepare("SELECT policy FROM accounts ORDER BY id")
      .all()
      .map((r) => parse<AccountPolicy>((r as Row).policy));
  }

  async getAccount(id: string): Promise<AccountPolicy | undefined> {
    const r = this.db.prepare("SELECT policy FROM accounts WHERE id = ?").get(id) as Row | undefined;
    return r ? parse<AccountPolicy>(r.policy) : undefined;
  }

  async putAccount(policy: AccountPolicy, actor: string, at: number): Promise<"created" | "updated"> {
    return this.db.transaction(() => {
      const existed = this.db.prepare("SELECT 1 FROM accounts WHERE id = ?").get(policy.id) !== undefined;
      this.db
        .prepare(
          "INSERT INTO accounts (id, policy, updated_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at",
        )
        .run(policy.id, json(policy), at);
      this.st.audit.run(at, actor, existed ? "account.update" : "account.create", policy.id, json({ policy }));
      return existed ? ("updated" as const) : ("created" as const);
    })();
  }

  async deleteAccount(id: string, actor: string, at: number): Promise<boolean> {
    return this.db.transaction(() => {
      const n = this.db.prepare("DELETE FROM accounts WHERE id = ?").run(id).changes;
      if (n > 0) this.st.audit.run(at, actor, "account.delete", id, "{}");
      return n > 0;
    })();
  }

  // ---- calls

  private writeVerdict(v: Verdict): void {
    const n = v.number;
    this.st.insertCall.run(
      v.callId,
      v.account,
      v.at,
      n?.input ?? "",
      n?.e164 ?? null,
      n?.country ?? null,
      n?.international ? 1 : 0,
      v.decision,
      v.reasons.length === 0 ? "[]" : json(v.reasons),
      v.estimatedCost,
    );
    if (v.learnedCountry) this.st.seen.run(v.account, v.learnedCountry, v.at);
    for (const a of v.alerts) this.insertAlert(a, "calls");
    if (v.block) {
      this.insertBlockRow(v.block);
      this.st.audit.run(v.at, "engine", "block.create", v.account, json({ blockId: v.block.id, rule: v.block.rule, reason: v.block.reason, until: v.block.until }));
    }
  }


  async recordVerdict(v: Verdict): Promise<void> {
    if (v.repeat) return;
    // A plain allow is one row: skip the transaction wrapper, which costs more than the insert.
    if (v.alerts.length === 0 && !v.block && !v.learnedCountry) this.writeVerdict(v);
    else this.verdictTx(v);
  }

  async recordAnswer(callId: string, at: number): Promise<void> {
    this.st.answer.run(at, callId);
  }

  async recordHangup(callId: string, at: number, billsec: number, cost: number): Promise<void> {
    this.st.hangup.run(at, billsec, cost, callId);
  }

  async openCalls(since: number): Promise<CallRow[]> {
    return this.db
      .prepare("SELECT * FROM calls WHERE ended_at IS NULL AND decision = 'allow' AND at >= ? ORDER BY at")
      .all(since)
      .map((r) => callRow(r as Row));
  }

  async listCalls(f: CallFilter): Promise<CallRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.account !== undefined) (where.push("account = ?"), args.push(f.account));
    if (f.decision !== undefined) (where.push("decision = ?"), args.push(f.decision));
    if (f.since !== undefined) (where.push("at >= ?"), args.push(f.since));
    if (f.before !== undefined) (where.push("at < ?"), args.push(f.before));
    const sql = `SELECT * FROM calls ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY at DESC LIMIT ?`;
    return this.db
      .prepare(sql)
      .all(...args, limitOf(f))
      .map((r) => callRow(r as Row));
  }

  async pruneCalls(before: number): Promise<number> {
    return this.db.prepare("DELETE FROM calls WHERE at < ? AND (ended_at IS NOT NULL OR decision = 'deny')").run(before).changes;
  }

  async seenCountries(): Promise<{ account: string; country: string; firstAt: number }[]> {
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
    return this.db.transaction(() => alerts.map((a) => this.insertAlert(a, guard)))();
  }

  async listAlerts(f: AlertFilter): Promise<StoredAlert[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.account !== undefined) (where.push("account = ?"), args.push(f.account));
    if (f.rule !== undefined) (where.push("rule = ?"), args.push(f.rule));
    if (f.severity !== undefined) (where.push("severity = ?"), args.push(f.severity));
    if (f.guard !== undefined) (where.push("guard = ?"), args.push(f.guard));
    if (f.since !== undefined) (where.push("at >= ?"), args.push(f.since));
    if (f.before !== undefined) (where.push("id < ?"), args.push(f.before));
    const sql = `SELECT * FROM alerts ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id DESC LIMIT ?`;
    return this.db
      .prepare(sql)
      .all(...args, limitOf(f))
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
    this.st.insertBlock.run(b.id, b.account, b.scope, b.createdAt, b.until, b.rule, b.reason, json(b.evidence), b.createdBy);
  }

  async insertBlock(b: Block): Promise<void> {
    this.db.transaction(() => {
      this.insertBlockRow(b);
      this.st.audit.run(b.createdAt, b.createdBy, "block.create", b.account, json({ blockId: b.id, rule: b.rule, reason: b.reason, until: b.until }));
    })();
  }

  async getBlock(id: string): Promise<BlockRecord | undefined> {
    const r = this.db.prepare("SELECT * FROM blocks WHERE id = ?").get(id) as Row | undefined;
    return r ? blockRow(r) : undefined;
  }

  async listBlocks(f: BlockFilter): Promise<BlockRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.account !== undefined) (where.push("account = ?"), args.push(f.account));
    if (f.activeAt !== undefined) {
      where.push("lifted_at IS NULL AND created_at <= ? AND (until IS NULL OR until > ?)");
      args.push(f.activeAt, f.activeAt);
    }
    if (f.before !== undefined) (where.push("created_at < ?"), args.push(f.before));
    const sql = `SELECT * FROM blocks ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY created_at DESC LIMIT ?`;
    return this.db
      .prepare(sql)
      .all(...args, limitOf(f))
      .map((r) => blockRow(r as Row));
  }

  async liftBlock(id: string, actor: string, reason: string, at: number): Promise<boolean> {
    return this.db.transaction(() => {
      const n = this.db
        .prepare("UPDATE blocks SET lifted_at = ?, lifted_by = ?, lift_reason = ? WHERE id = ? AND lifted_at IS NULL")
        .run(at, actor, reason, id).changes;
      if (n > 0) {
        const b = this.db.prepare("SELECT account FROM blocks WHERE id = ?").get(id) as Row;
        this.st.audit.run(at, actor, "block.lift", String(b.account), json({ blockId: id, reason }));
      }
      return n > 0;
    })();
  }

  // ---- audit

  async appendAudit(e: Omit<AuditEntry, "id">): Promise<void> {
    this.st.audit.run(e.at, e.actor, e.action, e.subject, json(e.detail));
  }

  async listAudit(f: Page & { actor?: string | undefined; subject?: string | undefined }): Promise<AuditEntry[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.actor !== undefined) (where.push("actor = ?"), args.push(f.actor));
    if (f.subject !== undefined) (where.push("subject = ?"), args.push(f.subject));
    if (f.before !== undefined) (where.push("id < ?"), args.push(f.before));
    const sql = `SELECT * FROM audit ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id DESC LIMIT ?`;
    return this.db
      .prepare(sql)
      .all(...args, limitOf(f))
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
    this.db
      .prepare("INSERT INTO api_keys (id, name, role, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(k.id, k.name, k.role, k.hash, k.createdAt, k.revokedAt);
  }

  async keyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const r = this.db.prepare("SELECT * FROM api_keys WHERE hash = ?").get(hash) as Row | undefined;
    return r ? keyRow(r) : undefined;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return this.db
      .prepare("SELECT * FROM api_keys ORDER BY created_at")
      .all()
      .map((r) => keyRow(r as Row));
  }

  async revokeKey(id: string, at: number): Promise<boolean> {
    return this.db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(at, id).changes > 0;
  }

  // ---- webhook outbox

  async enqueueDeliveries(items: readonly { target: string; body: string }[], at: number): Promise<void> {
    if (items.length === 0) return;
    const ins = this.db.prepare("INSERT INTO deliveries (target, body, next_at, created_at) VALUES (?, ?, ?, ?)");
    this.db.transaction(() => {
      for (const i of items) ins.run(i.target, i.body, at, at);
    })();
  }

  async dueDeliveries(at: number, limit: number): Promise<Delivery[]> {
    return this.db
      .prepare("SELECT id, target, body, attempts, next_at FROM deliveries WHERE state = 'pending' AND next_at <= ? ORDER BY next_at LIMIT ?")
      .all(at, limit)
      .map((r) => {
        const x = r as Row;
        return { id: Number(x.id), target: String(x.target), body: String(x.body), attempts: Number(x.attempts), nextAt: Number(x.next_at) };
      });
  }

  async markDelivered(id: number): Promise<void> {
    this.db.prepare("UPDATE deliveries SET state = 'delivered', attempts = attempts + 1 WHERE id = ?").run(id);
  }

  async markRetry(id: number, nextAt: number | null, error: string): Promise<void> {
    if (nextAt === null)
      this.db.prepare("UPDATE deliveries SET state = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?").run(error, id);
    else
      this.db
        .prepare("UPDATE deliveries SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?")
        .run(nextAt, error, id);
  }

  async probeWrite(at: number): Promise<void> {
    this.db.prepare("INSERT INTO health (id, at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET at = excluded.at").run(at);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
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
