import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { accountPolicySchema } from "../calls/policy.js";
import { describeIssues } from "../config/load.js";
import { api, apiTarget } from "./api-client.js";
import { print } from "./output.js";

type Conn = { url?: string; key?: string; json?: boolean };

/** `mamori accounts …`: account policies through the running service's API (admin key to change). */
export function registerAccounts(program: Command): void {
  const cmd = program
    .command("accounts")
    .description("list, show, set and delete account policies")
    .option("--url <url>", "Mamori API (default http://127.0.0.1:8080, env MAMORI_URL)")
    .option("--key <key>", "API key (env MAMORI_KEY)")
    .option("--json", "print JSON");
  const conn = (c: Command) => c.optsWithGlobals() as Conn;

  cmd
    .command("list")
    .description("list accounts")
    .action(async (_o, c: Command) => {
      const o = conn(c);
      const r = (await api(apiTarget(o), "GET", "/v1/accounts")) as { accounts: Record<string, unknown>[] };
      const rows = r.accounts.map((a) => ({
        id: a.id,
        name: a.name,
        country: a.country,
        international: (a.international as { mode?: string } | undefined)?.mode ?? "all",
      }));
      print(o.json ? r.accounts : rows, Boolean(o.json), ["id", "name", "country", "international"]);
    });

  cmd
    .command("get <id>")
    .description("show an account's policy, live calls and blocks in force")
    .action(async (id: string, _o, c: Command) => {
      print(await api(apiTarget(conn(c)), "GET", `/v1/accounts/${encodeURIComponent(id)}`), true);
    });

  cmd
    .command("set <file>")
    .description("create or replace accounts from a YAML or JSON file (one policy, or `accounts: [...]`)")
    .action(async (file: string, _o, c: Command) => {
      const doc = parseYaml(readFileSync(file, "utf8")) as unknown;
      const list = Array.isArray((doc as { accounts?: unknown })?.accounts)
        ? (doc as { accounts: unknown[] }).accounts
        : [doc];
      for (const [i, p] of list.entries()) {
        const r = accountPolicySchema.safeParse(p);
        if (!r.success)
          throw new Error(
            `${file}: account #${i + 1}:\n  - ${describeIssues(r.error.issues).join("\n  - ")}`,
          );
        const out = (await api(
          apiTarget(conn(c)),
          "PUT",
          `/v1/accounts/${encodeURIComponent(r.data.id)}`,
          r.data,
        )) as {
          result: string;
        };
        process.stdout.write(`${r.data.id}: ${out.result}\n`);
      }
    });

  cmd
    .command("delete <id>")
    .description("delete an account's policy")
    .action(async (id: string, _o, c: Command) => {
      await api(apiTarget(conn(c)), "DELETE", `/v1/accounts/${encodeURIComponent(id)}`);
      process.stdout.write(`${id}: deleted\n`);
    });
}
