import type { Command } from "commander";
import { api, apiTarget } from "./api-client.js";
import { print } from "./output.js";

/**
 * The shape shared by `mamori blocks` and `mamori bans`: things in force that an operator lists,
 * places by hand and lifts with a reason, all through the running service's API.
 */
type Conn = { url?: string; key?: string; json?: boolean };

export type RestrictionCommand = {
  /** Command and API collection name: "blocks" → /v1/blocks. */
  readonly name: string;
  readonly description: string;
  /** Singular, for help texts ("block", "ban"). */
  readonly one: string;
  /** What is restricted, as the create argument and the list filter: "account", "address". */
  readonly subject: string;
  readonly subjectHelp: string;
  readonly createHelp: string;
  readonly columns: readonly string[];
};

export function registerRestrictions(program: Command, r: RestrictionCommand): void {
  const cmd = program
    .command(r.name)
    .description(r.description)
    .option("--url <url>", "Mamori API (default http://127.0.0.1:8080, env MAMORI_URL)")
    .option("--key <key>", "API key (env MAMORI_KEY)")
    .option("--json", "print JSON");
  const conn = (c: Command) => c.optsWithGlobals() as Conn;

  cmd
    .command("list")
    .description(`${r.name}, newest first`)
    .option("--all", `include lifted and expired ${r.name}`)
    .option(`--${r.subject} <${r.subject === "address" ? "ip" : "id"}>`, r.subjectHelp)
    .action(async (o: Record<string, string | boolean | undefined>, c: Command) => {
      const q = new URLSearchParams();
      if (!o.all) q.set("active", "true");
      const only = o[r.subject];
      if (typeof only === "string") q.set(r.subject, only);
      const res = (await api(apiTarget(conn(c)), "GET", `/v1/${r.name}?${q}`)) as Record<
        string,
        Record<string, unknown>[]
      >;
      print(res[r.name], Boolean(conn(c).json), r.columns);
    });

  cmd
    .command(`create <${r.subject}>`)
    .description(r.createHelp)
    .requiredOption("--reason <text>", "why (goes to the audit log)")
    .option("--minutes <n>", "how long (default: until lifted)", (v) => Number(v))
    .action(async (subject: string, o: { reason: string; minutes?: number }, c: Command) => {
      const body: Record<string, unknown> = { [r.subject]: subject, reason: o.reason };
      if (o.minutes !== undefined) body.minutes = o.minutes;
      print(await api(apiTarget(conn(c)), "POST", `/v1/${r.name}`, body), true);
    });

  cmd
    .command("lift <id>")
    .description(`lift a ${r.one}`)
    .requiredOption("--reason <text>", "why (goes to the audit log)")
    .action(async (id: string, o: { reason: string }, c: Command) => {
      print(
        await api(apiTarget(conn(c)), "DELETE", `/v1/${r.name}/${encodeURIComponent(id)}`, {
          reason: o.reason,
        }),
        true,
      );
    });
}
