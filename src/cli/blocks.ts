import type { Command } from "commander";
import { api, apiTarget } from "./api-client.js";
import { print } from "./output.js";

type Conn = { url?: string; key?: string; json?: boolean };

/** `mamori blocks …`: blocks of international calling, through the running service (operator key). */
export function registerBlocks(program: Command): void {
  const cmd = program
    .command("blocks")
    .description("list, place and lift blocks of international calling")
    .option("--url <url>", "Mamori API (default http://127.0.0.1:8080, env MAMORI_URL)")
    .option("--key <key>", "API key (env MAMORI_KEY)")
    .option("--json", "print JSON");
  const conn = (c: Command) => c.optsWithGlobals() as Conn;

  cmd
    .command("list")
    .description("blocks, newest first")
    .option("--all", "include lifted and expired blocks")
    .option("--account <id>", "only this account")
    .action(async (o: { all?: boolean; account?: string }, c: Command) => {
      const q = new URLSearchParams();
      if (!o.all) q.set("active", "true");
      if (o.account) q.set("account", o.account);
      const r = (await api(apiTarget(conn(c)), "GET", `/v1/blocks?${q}`)) as {
        blocks: Record<string, unknown>[];
      };
      print(r.blocks, Boolean(conn(c).json), [
        "id",
        "account",
        "rule",
        "createdAt",
        "until",
        "active",
        "reason",
      ]);
    });

  cmd
    .command("create <account>")
    .description("block an account's international calling")
    .requiredOption("--reason <text>", "why (goes to the audit log)")
    .option("--minutes <n>", "how long (default: until lifted)", (v) => Number(v))
    .action(async (account: string, o: { reason: string; minutes?: number }, c: Command) => {
      const body: Record<string, unknown> = { account, reason: o.reason };
      if (o.minutes !== undefined) body.minutes = o.minutes;
      print(await api(apiTarget(conn(c)), "POST", "/v1/blocks", body), true);
    });

  cmd
    .command("lift <id>")
    .description("lift a block")
    .requiredOption("--reason <text>", "why (goes to the audit log)")
    .action(async (id: string, o: { reason: string }, c: Command) => {
      print(
        await api(apiTarget(conn(c)), "DELETE", `/v1/blocks/${encodeURIComponent(id)}`, { reason: o.reason }),
        true,
      );
    });
}
