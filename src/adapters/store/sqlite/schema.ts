/**
 * SQLite schema, as an ordered list of migrations; PRAGMA user_version records how many have run.
 * Append, never edit: a database created by an earlier version must migrate forward.
 */
export const migrations: readonly string[] = [
  `
  CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    policy TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
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
  CREATE TABLE seen_countries (
    account TEXT NOT NULL,
    country TEXT NOT NULL,
    first_at INTEGER NOT NULL,
    PRIMARY KEY (account, country)
  ) WITHOUT ROWID;
  CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    guard TEXT NOT NULL,
    at INTEGER NOT NULL,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    account TEXT NOT NULL,
    call_id TEXT,
    decision TEXT NOT NULL,
    message TEXT NOT NULL,
    evidence TEXT NOT NULL
  );
  CREATE INDEX alerts_account ON alerts(account, id);
  CREATE TABLE blocks (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    until INTEGER,
    rule TEXT NOT NULL,
    reason TEXT NOT NULL,
    evidence TEXT NOT NULL,
    created_by TEXT NOT NULL,
    lifted_at INTEGER,
    lifted_by TEXT,
    lift_reason TEXT
  );
  CREATE INDEX blocks_account ON blocks(account, created_at);
  CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL
  );
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX deliveries_due ON deliveries(next_at) WHERE state = 'pending';
  CREATE TABLE health (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL);
  `,
  `
  CREATE TABLE bans (
    id TEXT PRIMARY KEY,
    guard TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    until INTEGER,
    rule TEXT NOT NULL,
    reason TEXT NOT NULL,
    severity TEXT NOT NULL,
    evidence TEXT NOT NULL,
    offence INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    lifted_at INTEGER,
    lifted_by TEXT,
    lift_reason TEXT
  );
  CREATE INDEX bans_address ON bans(address, created_at);
  CREATE INDEX bans_created ON bans(created_at);
  CREATE TABLE learned_places (
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    first_at INTEGER NOT NULL,
    PRIMARY KEY (account, kind, value)
  ) WITHOUT ROWID;
  CREATE TABLE account_flags (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    account TEXT NOT NULL,
    type TEXT NOT NULL,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    reason TEXT NOT NULL,
    evidence TEXT NOT NULL
  );
  CREATE INDEX account_flags_account ON account_flags(account, id);
  `,
  `
  CREATE TABLE attacks (
    id TEXT PRIMARY KEY,
    victim TEXT NOT NULL,
    kind TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    ended_at INTEGER,
    doc TEXT NOT NULL
  );
  CREATE INDEX attacks_started ON attacks(started_at);
  CREATE TABLE mitigations (
    id TEXT PRIMARY KEY,
    attack_id TEXT,
    type TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    withdrawn_at INTEGER,
    withdrawn_by TEXT,
    withdraw_reason TEXT,
    doc TEXT NOT NULL
  );
  CREATE INDEX mitigations_open ON mitigations(expires_at) WHERE withdrawn_at IS NULL;
  `,
];
