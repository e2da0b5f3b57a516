import type { Command } from "commander";
import { api, apiTarget } from "./api-client.js";
import { print, table } from "./output.js";

type Conn = { url?: string; key?: string; json?: boolean };
type Rates = { pps: number; bps: number; flowsPerSecond: number };

/** `mamori flows`: live top talkers per protected host, attacks and mitigations (operator key). */
export function registerFlows(program: Command): void {
  const cmd = program
    .command("flows")
    .description("top talkers among the protected hosts, attacks under way and mitigations in force")
    .option("--url <url>", "Mamori API (default http://127.0.0.1:8080, env MAMORI_URL)")
    .option("--key <key>", "API key (env MAMORI_KEY)")
    .option("--json", "print JSON")
    .option("--limit <n>", "how many hosts", (v) => Number(v), 20)
    .action(async (o: Conn & { limit: number }) => {
      const t = apiTarget(o);
      const top = (await api(t, "GET", `/v1/flows/top?limit=${o.limit}`)) as {
        hosts: { address: string; group: string; inbound: Rates; outbound: Rates }[];
      };
      const attacks = (await api(t, "GET", "/v1/attacks?active=true")) as {
        attacks: Record<string, unknown>[];
      };
      const mitigations = (await api(t, "GET", "/v1/mitigations?active=true")) as {
        mitigations: Record<string, unknown>[];
      };
      if (o.json) {
        print({ top: top.hosts, attacks: attacks.attacks, mitigations: mitigations.mitigations }, true);
        return;
      }
      const n = (x: number) => Math.round(x).toLocaleString("en-US");
      const rows = top.hosts.map((h) => ({
        host: h.address,
        group: h.group,
        "in pps": n(h.inbound.pps),
        "in Mbit/s": (h.inbound.bps / 1e6).toFixed(1),
        "in flows/s": n(h.inbound.flowsPerSecond),
        "out pps": n(h.outbound.pps),
        "out Mbit/s": (h.outbound.bps / 1e6).toFixed(1),
      }));
      process.stdout.write(
        [
          "Top talkers",
          table(rows, ["host", "group", "in pps", "in Mbit/s", "in flows/s", "out pps", "out Mbit/s"]),
          "",
          "Attacks under way",
          table(attacks.attacks, ["id", "victim", "kind", "startedAt"]),
          "",
          "Mitigations in force",
          table(mitigations.mitigations, ["id", "type", "attackId", "expiresAt", "reason"]),
          "",
        ].join("\n"),
      );
    });

  cmd
    .command("withdraw <id>")
    .description("withdraw a mitigation")
    .requiredOption("--reason <text>", "why (goes to the audit log)")
    .action(async (id: string, o: { reason: string }, c: Command) => {
      print(
        await api(
          apiTarget(c.optsWithGlobals() as Conn),
          "DELETE",
          `/v1/mitigations/${encodeURIComponent(id)}`,
          { reason: o.reason },
        ),
        true,
      );
    });
}
