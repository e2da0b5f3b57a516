import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/adapters/store/sqlite/sqlite-store.js";
import { storeContract } from "./store-contract.js";

storeContract("sqlite", {
  async create() {
    return new SqliteStore(join(mkdtempSync(join(tmpdir(), "mamori-store-")), "m.db"));
  },
  async reopen(s) {
    const path = (s as SqliteStore).db.name;
    await s.close();
    return new SqliteStore(path);
  },
});

// An in-memory store writes its decision log straight into SQLite instead of through the call journal.
storeContract("sqlite in memory", {
  async create() {
    return new SqliteStore(":memory:");
  },
});
