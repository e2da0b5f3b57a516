import type { Command } from "commander";
import { runService } from "./serve.js";

/**
 * `mamori shield --upstream URL [--port N]`: the billing shield in front of a billing API, with the
 * service around it (API for bans and metrics, store, nftables bans as configured).
 */
export function registerShield(program: Command): void {
  program
    .command("shield")
    .description("run the billing shield: a gateway that keeps customers' payments going through a flood")
    .requiredOption("--upstream <url>", "the billing API behind the gateway, e.g. http://127.0.0.1:9000")
    .option("--port <n>", "gateway port (default 8088)", (v) => Number(v))
    .option("--host <addr>", "gateway listen address (default 127.0.0.1)")
    .option("--api-port <n>", "Mamori API port (default 8080, env MAMORI_PORT)", (v) => Number(v))
    .option("--db <file>", "SQLite database file (default mamori.db, env MAMORI_DB)")
    .option("--config <file>", "YAML configuration file (env MAMORI_CONFIG)")
    .action(
      async (o: {
        upstream: string;
        port?: number;
        host?: string;
        apiPort?: number;
        db?: string;
        config?: string;
      }) => {
        await runService(
          { port: o.apiPort, db: o.db, config: o.config },
          {
            "shield.enabled": true,
            "shield.upstream": o.upstream,
            ...(o.port !== undefined ? { "shield.port": o.port } : {}),
            ...(o.host !== undefined ? { "shield.host": o.host } : {}),
          },
        );
      },
    );
}
