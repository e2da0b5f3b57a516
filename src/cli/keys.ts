import type { Command } from "commander";
import { newKey } from "../adapters/http/auth.js";
import { SqliteStore } from "../adapters/store/sqlite/sqlite-store.js";
import { type Role, roles } from "../adapters/store/store.js";
import { print } from "./output.js";

/**
 * `mamori keys …` works on the database file directly: it is how an operator with shell access on the
 * host creates the first keys, or recovers from a lost admin key. Every change is in the audit log.
 */
const dbOf = (o: { db?: string }) => o.db ?? process.env.MAMORI_DB ?? "mamori.db";

export function registerKeys(program: Command): void {
  const cmd = program.command("keys").description("create, list and revoke API keys (on the local database)");

  cmd
    .command("create")
    .description("create a key; its secret is printed once")
    .requiredOption("--role <role>", `one of ${roles.join(", ")}`)
    .requiredOption("--name <name>", "who or what uses it")
    .option("--db <file>", "SQLite database (default mamori.db, env MAMORI_DB)")
    .action(async (o: { role: string; name: string; db?: string }) => {
      if (!(roles as readonly string[]).includes(o.role))
        throw new Error(`--role must be one of ${roles.join(", ")}`);
      const store = new SqliteStore(dbOf(o));
      try {
        const { record, secret } = newKey(o.name, o.role as Role, Date.now());
        await store.insertKey(record);
        await store.appendAudit({
          at: Date.now(),
          actor: "cli",
          action: "key.create",
          subject: record.id,
          detail: { role: record.role, name: record.name },
        });
        process.stdout.write(`${record.id} ${record.role} ${record.name}\n${secret}\n`);
      } finally {
        await store.close();
      }
    });

  cmd
    .command("list")
    .description("list keys (never their secrets)")
    .option("--db <file>", "SQLite database (default mamori.db, env MAMORI_DB)")
    .option("--json", "print JSON")
    .action(async (o: { db?: string; json?: boolean }) => {
      const store = new SqliteStore(dbOf(o));
      try {
        const keys = (await store.listKeys()).map((k) => ({
          id: k.id,
          role: k.role,
          name: k.name,
          created: new Date(k.createdAt).toISOString(),
          revoked: k.revokedAt === null ? null : new Date(k.revokedAt).toISOString(),
        }));
        print(keys, Boolean(o.json), ["id", "role", "name", "created", "revoked"]);
      } finally {
        await store.close();
      }
    });

  cmd
    .command("revoke <id>")
    .description("revoke a key (a running service notices within 30 seconds)")
    .option("--db <file>", "SQLite database (default mamori.db, env MAMORI_DB)")
    .action(async (id: string, o: { db?: string }) => {
      const store = new SqliteStore(dbOf(o));
      try {
        if (!(await store.revokeKey(id, Date.now()))) throw new Error(`no active key ${id}`);
        await store.appendAudit({
          at: Date.now(),
          actor: "cli",
          action: "key.revoke",
          subject: id,
          detail: {},
        });
        process.stdout.write(`${id}: revoked\n`);
      } finally {
        await store.close();
      }
    });
}
