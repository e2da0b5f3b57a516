import type { Logger } from "pino";
import { startHepListener } from "../adapters/ingest/hep/listener.js";
import { followFile, type LineReader } from "../adapters/ingest/seclog/follow.js";
import { seclogParser } from "../adapters/ingest/seclog/formats.js";
import type { Config } from "../config/schema.js";
import type { SipEvent } from "../core/sip-events.js";
import type { Metrics } from "./metrics.js";

/**
 * The PBX guard's live inputs: log files followed across rotation and HEPv3 on UDP. A line or packet
 * that cannot be used is counted (metrics, per source) and the first few are logged with where they
 * came from; nothing stops a stream.
 */
export type PbxSources = {
  readonly hepAddress: { address: string; port: number } | undefined;
  readonly stats: () => Record<string, unknown>;
  close(): Promise<void>;
};

export async function startPbxSources(
  config: Config["pbxGuard"],
  onEvent: (e: SipEvent) => Promise<unknown>,
  metrics: Metrics,
  log: Logger,
): Promise<PbxSources> {
  const readers: LineReader[] = [];
  const loops: Promise<void>[] = [];
  const fileStats = new Map<string, { lines: number; events: number; rejected: number }>();
  for (const f of config.logs) {
    const parse = seclogParser(f.format);
    const reader = followFile(f.path, { from: f.fromStart ? "start" : "end" });
    readers.push(reader);
    const st = { lines: 0, events: 0, rejected: 0 };
    fileStats.set(f.path, st);
    loops.push(
      (async () => {
        for await (const l of reader) {
          st.lines++;
          const r = parse(l.line, {
            source: l.source,
            line: l.lineNo,
            year: new Date().getUTCFullYear(),
            timeZone: f.timeZone,
          });
          if (r.type === "event") {
            st.events++;
            metrics.sipEvents.inc({ source: "log", type: r.event.type });
            await onEvent(r.event).catch((err) => log.error({ err }, "PBX guard failed on an event"));
          } else if (r.type === "rejected") {
            st.rejected++;
            metrics.rejectedInput.inc({ source: f.path });
            if (st.rejected <= 20)
              log.warn({ source: r.source, line: r.line, reason: r.reason }, "log line not used");
          }
        }
      })().catch((err) => log.error({ err, path: f.path }, "log follower stopped")),
    );
  }
  const hep = config.hep
    ? await startHepListener({
        host: config.hep.host,
        port: config.hep.port,
        ...(config.hep.authKey ? { authKey: config.hep.authKey } : {}),
        onEvent: (e) => {
          metrics.sipEvents.inc({ source: "hep", type: e.type });
          void onEvent(e).catch((err) => log.error({ err }, "PBX guard failed on a HEP event"));
        },
        onRejected: (r) => {
          metrics.rejectedInput.inc({ source: "hep" });
          log.debug({ from: r.from, reason: r.reason }, "HEP packet not used");
        },
      })
    : undefined;
  if (hep) log.info(hep.address(), "HEP listener up");
  return {
    hepAddress: hep?.address(),
    stats: () => ({
      logs: Object.fromEntries(fileStats),
      hep: hep ? { ...hep.stats(), malformedBySource: undefined } : undefined,
    }),
    async close() {
      for (const r of readers) await r.close();
      await hep?.close();
      await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 2000))]);
    },
  };
}
