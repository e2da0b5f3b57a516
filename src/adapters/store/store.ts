import type { AccountPolicy } from "../../calls/policy.js";
import type { Alert, Block, Verdict } from "../../calls/verdict.js";

/**
 * The store port. The SQLite adapter is the embedded default; a PostgreSQL adapter must pass the same
 * contract tests (test/contract/store-contract.ts). Asynchronous so that a networked store fits.
 */
export type Role = "viewer" | "switch" | "operator" | "admin";
export const roles = ["viewer", "switch", "operator", "admin"] as const;

/** Which guard an alert, ban or block comes from. */
export type Guard = "calls" | "pbx" | "flows" | "shield";

export type StoredAlert = Alert & { readonly id: number; readonly guard: Guard };

export type BlockRecord = Block & {
  readonly liftedAt: number | null;
  readonly liftedBy: string | null;
  readonly liftReason: string | null;
};

export type AuditEntry = {
  readonly id: number;
  readonly at: number;
  /** The API key id that made the change, "engine" for the guards themselves, "cli" for local commands. */
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly detail: Readonly<Record<string, unknown>>;
};

export type ApiKeyRecord = {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  /** SHA-256 of the secret, hex; the secret itself is never stored. */
  readonly hash: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
};

/** One call as the decision log holds it. */
export type CallRow = {
  readonly callId: string;
  readonly account: string;
  readonly at: number;
  readonly to: string;
  readonly e164: string | null;
  readonly country: string | null;
  readonly international: boolean;
  readonly decision: "allow" | "deny";
  readonly reasons: readonly { rule: string; message: string }[];
  readonly estimatedCost: number;
  readonly answeredAt: number | null;
  readonly endedAt: number | null;
  readonly billsec: number | null;
  readonly cost: number | null;
};

export type Delivery = {
  readonly id: number;
  readonly target: string;
  readonly body: string;
  readonly attempts: number;
  readonly nextAt: number;
};

/** An address banned by the PBX guard, the billing shield or an operator. */
export type Ban = {
  readonly id: string;
  readonly guard: Guard;
  /** Canonical IP address. */
  readonly address: string;
  readonly createdAt: number;
  /** Epoch ms when the ban ends by itself; null = until lifted. */
  readonly until: number | null;
  readonly rule: string;
  readonly reason: string;
  readonly severity: "warning" | "critical";
  readonly evidence: Readonly<Record<string, unknown>>;
  /** Which offence of this address it is: the step on the ban ladder. */
  readonly offence: number;
  readonly createdBy: string;
};

export type BanRecord = Ban & {
  readonly liftedAt: number | null;
  readonly liftedBy: string | null;
  readonly liftReason: string | null;
};

export type BanFilter = Page & {
  readonly address?: string | undefined;
  readonly guard?: Guard | undefined;
  readonly activeAt?: number | undefined;
};

export type LearnedPlaceRow = {
  readonly account: string;
  readonly kind: "network" | "country";
  readonly value: string;
  readonly firstAt: number;
};

export type AccountFlagRow = {
  readonly at: number;
  readonly account: string;
  readonly type: string;
  readonly rule: string;
  readonly severity: "warning" | "critical";
  readonly reason: string;
  readonly evidence: Readonly<Record<string, unknown>>;
};

/** A flow-guard attack or mitigation as stored: the engine's own object as JSON, plus what queries need. */
export type AttackRow = {
  readonly id: string;
  readonly victim: string;
  readonly kind: string;
  readonly startedAt: number;
  readonly updatedAt: number;
  readonly endedAt: number | null;
  readonly doc: unknown;
};

export type MitigationRow = {
  readonly id: string;
  readonly attackId: string | null;
  readonly type: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly withdrawnAt: number | null;
  readonly withdrawnBy: string | null;
  readonly withdrawReason: string | null;
  readonly doc: unknown;
};

export type Page = { readonly limit?: number | undefined; readonly before?: number | undefined };

export type AlertFilter = Page & {
  readonly account?: string | undefined;
  readonly rule?: string | undefined;
  readonly severity?: "warning" | "critical" | undefined;
  readonly guard?: Guard | undefined;
  readonly since?: number | undefined;
};

export type BlockFilter = Page & {
  readonly account?: string | undefined;
  /** Only blocks in force at this instant. */
  readonly activeAt?: number | undefined;
};

export type CallHistoryRow = {
  /** Start of the bucket, ms since the epoch. */
  readonly at: number;
  /** ISO 3166 code of the destination, or "?" when the number had none (invalid, service numbers). */
  readonly country: string;
  readonly international: boolean;
  readonly allowed: number;
  readonly denied: number;
  readonly cost: number;
};

export type CallFilter = Page & {
  readonly account?: string | undefined;
  readonly decision?: "allow" | "deny" | undefined;
  readonly since?: number | undefined;
};

export interface Store {
  readonly kind: string;

  listAccounts(): Promise<AccountPolicy[]>;
  getAccount(id: string): Promise<AccountPolicy | undefined>;
  /** Creates or replaces; returns whether it existed. The audit entry is written in the same transaction. */
  putAccount(policy: AccountPolicy, actor: string, at: number): Promise<"created" | "updated">;
  deleteAccount(id: string, actor: string, at: number): Promise<boolean>;

  /** Stores a decision with everything it caused (alerts, block, learned country) in one transaction. */
  recordVerdict(v: Verdict): Promise<void>;
  recordAnswer(callId: string, at: number): Promise<void>;
  recordHangup(callId: string, at: number, billsec: number, cost: number): Promise<void>;
  /** Calls allowed since `since` that have not ended: to restore live calls after a restart. */
  openCalls(since: number): Promise<CallRow[]>;
  listCalls(filter: CallFilter): Promise<CallRow[]>;
  /**
   * An account's calls since `since`, counted per time bucket, destination country and decision, with
   * their cost (the billed cost once ended, the estimate before): the console's per-account chart.
   */
  callHistory(account: string, since: number, bucketMs: number): Promise<CallHistoryRow[]>;
  /** Deletes decision-log rows older than `before`; returns how many. */
  pruneCalls(before: number): Promise<number>;
  seenCountries(): Promise<{ account: string; country: string; firstAt: number }[]>;

  insertAlerts(alerts: readonly Alert[], guard: Guard): Promise<number[]>;
  listAlerts(filter: AlertFilter): Promise<StoredAlert[]>;

  insertBlock(block: Block): Promise<void>;
  getBlock(id: string): Promise<BlockRecord | undefined>;
  listBlocks(filter: BlockFilter): Promise<BlockRecord[]>;
  /** Lifts a block in force; false when it does not exist or was already lifted. */
  liftBlock(id: string, actor: string, reason: string, at: number): Promise<boolean>;

  /** Stores a ban with its audit entry. */
  insertBan(ban: Ban): Promise<void>;
  getBan(id: string): Promise<BanRecord | undefined>;
  listBans(filter: BanFilter): Promise<BanRecord[]>;
  /** Lifts a ban in force; false when it does not exist or was already lifted. */
  liftBan(id: string, actor: string, reason: string, at: number): Promise<boolean>;
  /** Per address: bans since `since` and the latest, to restore the escalation ladder after a restart. */
  banOffences(since: number): Promise<{ address: string; count: number; lastAt: number }[]>;
  addLearnedPlaces(places: readonly LearnedPlaceRow[]): Promise<void>;
  learnedPlaces(): Promise<LearnedPlaceRow[]>;
  insertAccountFlags(flags: readonly AccountFlagRow[]): Promise<void>;
  listAccountFlags(
    filter: Page & { account?: string | undefined },
  ): Promise<(AccountFlagRow & { id: number })[]>;

  upsertAttack(a: Omit<AttackRow, "doc"> & { doc: unknown }): Promise<void>;
  listAttacks(filter: Page & { active?: boolean | undefined }): Promise<AttackRow[]>;
  /** Stores a mitigation (again: a renewal updates its expiry and document) with an audit entry on creation. */
  upsertMitigation(
    m: Omit<MitigationRow, "withdrawnAt" | "withdrawnBy" | "withdrawReason">,
    actor: string,
  ): Promise<void>;
  listMitigations(filter: Page & { activeAt?: number | undefined }): Promise<MitigationRow[]>;
  getMitigation(id: string): Promise<MitigationRow | undefined>;
  /** Marks a mitigation withdrawn; false when unknown or already withdrawn. */
  withdrawMitigation(id: string, actor: string, reason: string, at: number): Promise<boolean>;

  appendAudit(entry: Omit<AuditEntry, "id">): Promise<void>;
  listAudit(
    filter: Page & { actor?: string | undefined; subject?: string | undefined },
  ): Promise<AuditEntry[]>;

  insertKey(key: ApiKeyRecord): Promise<void>;
  keyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  listKeys(): Promise<ApiKeyRecord[]>;
  revokeKey(id: string, at: number): Promise<boolean>;

  enqueueDeliveries(items: readonly { target: string; body: string }[], at: number): Promise<void>;
  dueDeliveries(at: number, limit: number): Promise<Delivery[]>;
  markDelivered(id: number): Promise<void>;
  /** Schedules another try, or gives up (the row is kept as failed) when nextAt is null. */
  markRetry(id: number, nextAt: number | null, error: string): Promise<void>;

  /** A cheap write that proves the store accepts writes (health). */
  probeWrite(at: number): Promise<void>;
  close(): Promise<void>;
}
