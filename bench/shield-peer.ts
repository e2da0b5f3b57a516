import { Registry } from "prom-client";
import { startShield } from "../src/adapters/http/shield-gateway.js";
import type { ShieldSettingsInput } from "../src/shield/settings.js";
import { flood, startBillingBackend } from "../test/e2e/shield-world.js";

/**
 * The processes of the shield benchmark, one role each, so that the backend, the gateway and the flood
 * do not share an event loop: `backend`, `shield` and `flood`, configured by one JSON argument. Each
 * prints `listening URL` when ready (flood: `result JSON` when done) and stops on SIGTERM.
 */
const [role = "", json = "{}"] = process.argv.slice(2);
const args = JSON.parse(json) as Record<string, unknown>;
const line = (s: string) => process.stdout.write(`${s}\n`);

if (role === "backend") {
  const b = await startBillingBackend(
    args as { workers: number; serviceMs: number; maxConnections?: number },
  );
  line(`listening ${b.url}`);
  process.on("SIGTERM", () => void b.close().then(() => process.exit(0)));
} else if (role === "shield") {
  const s = await startShield({
    upstream: String(args.upstream),
    port: 0,
    host: "127.0.0.1",
    settings: args.settings as ShieldSettingsInput,
    registry: new Registry(),
    onBan: (b) => line(`event ${JSON.stringify({ type: "ban", ...b })}`),
    onModeChange: (m) =>
      line(`event ${JSON.stringify({ type: "mode", at: m.at, to: m.to, reason: m.reason })}`),
  });
  line(`listening ${s.address}`);
  process.on("SIGTERM", () => {
    line(`stats ${JSON.stringify(s.stats)}`);
    void s.close().then(() => process.exit(0));
  });
} else if (role === "flood") {
  const floods = args.floods as Parameters<typeof flood>[0][];
  const results = await Promise.all(floods.map((f) => flood(f)));
  line(`result ${JSON.stringify(results)}`);
  process.exit(0);
} else {
  process.stderr.write(`unknown role ${role}\n`);
  process.exit(2);
}
