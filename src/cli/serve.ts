import type { Command } from "commander";
import { buildApp } from "../app/build.js";
import { loadConfig } from "../config/load.js";

/** `mamori serve`: the service on the embedded defaults (SQLite file, shipped rule pack). */
type ServeOpts = {
  port?: number | undefined;
  host?: string | undefined;
  db?: string | undefined;
  config?: string | undefined;
};

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the service: HTTP API, call guard, PBX guard, flow guard and shield as configured")
    .option("--port <n>", "API port (default 8080, env MAMORI_PORT)", (v) => Number(v))
    .option("--host <addr>", "listen address (default 127.0.0.1, env MAMORI_HOST)")
    .option("--db <file>", "SQLite database file (default mamori.db, env MAMORI_DB)")
    .option("--config <file>", "YAML configuration file (env MAMORI_CONFIG)")
    .action(async (opts: ServeOpts) => {
      await runService(opts, {});
    });
}

/** Starts the service with command-line settings on top of the file and the environment. */
export async function runService(opts: ServeOpts, extra: Record<string, unknown>): Promise<void> {
  const config = loadConfig({
    file: opts.config ?? process.env.MAMORI_CONFIG,
    env: process.env,
    overrides: { "server.port": opts.port, "server.host": opts.host, "store.sqlite": opts.db, ...extra },
  });
  const app = await buildApp(config);
  if (app.initialAdminKey) {
    process.stdout.write(
      [
        "",
        "  First start: an admin API key was created. It is shown this once; keep it safe.",
        `  MAMORI_ADMIN_KEY=${app.initialAdminKey}`,
        "  Create keys for switches and operators with: mamori keys create --role switch --name <name>",
        "",
        "",
      ].join("\n"),
    );
  }
  const address = await app.listen();
  app.log.info({ address, db: config.store.sqlite }, "mamori listening");
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, "stopping");
    await app.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}
