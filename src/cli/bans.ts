import type { Command } from "commander";
import { api, apiTarget } from "./api-client.js";
import { print } from "./output.js";

type Conn = { url?: string; key?: string; json?: boolean };

/** `mamori bans …`: banned source addresses, through the running service (operator key). */
export function registerBans(program: Command): void {
  const cmd = program
    .command("bans")
    .description("list, place and lift bans of source addresses")
    .option("--url <url>", "Mamori API (default http://127.0.0.1:8080, env MAMORI_URL)")
    .option("--key <key>", "API key (env MAMORI_KEY)")
    .option("--json", "print JSON");
  const conn = (c: Command) => c.optsWithGlobals() as Conn;

  cmd
    .command("list")
    .description("bans, newest first")
    .option("--all", "include lifted and expired bans")
    .option("--address <ip>", "only this address")
    .action(async (o: { all?: boolean; address?: string }, c: Command) => {
      const q = new URLSearchParams();
      if (!o.all) q.set("active", "true");
      if (o.address) q.set("address", o.address);
      const r = (await api(apiTarget(conn(c)), "GET", `/v1/bans?${q}`)) as {
        bans: Record<string, unknown>[];
      };
      print(r.bans, Boolean(conn(c).json), [
        "id",
        "address",
        "guard",
        "rule",
        "offence",
        "createdAt",
        "until",
        "active",
        "reason",
      ]);
    });

  cmd
    .command("create <address>")
    .description("ban an address")
    .requiredOption("--reason <text>", "why (goes to the audit log)")
    .option("--minutes <n>", "how long (default: until lifted)", (v) => Number(v))
    .action(async (address: string, o: { reason: string; minutes?: number }, c: Command) => {
      const body: Record<string, unknown> = { address, reason: o.reason };
      if (o.minutes !== undefined) body.minutes = o.minutes;
      print(await api(apiTarget(conn(c)), "POST", "/v1/bans", body), true);
    });

  cmd
    .command("lift <id>")
    .description("lift a ban")
    .requiredOption("--reason <text>", "why (goes to the audit log)")
    .action(async (id: string, o: { reason: string }, c: Command) => {
      print(
        await api(apiTarget(conn(c)), "DELETE", `/v1/bans/${encodeURIComponent(id)}`, { reason: o.reason }),
        true,
      );
    });
}
