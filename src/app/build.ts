import { readFileSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import { type Logger, pino } from "pino";
import { parse as parseYaml } from "yaml";
import { ExabgpSpeaker } from "../adapters/actions/exabgp/exabgp.js";
import { endKamailioCall } from "../adapters/actions/kamailio/end-call.js";
import { KamailioHtableBans } from "../adapters/actions/kamailio/htable-bans.js";
import { KamailioRpc } from "../adapters/actions/kamailio/rpc.js";
import { NftablesBans } from "../adapters/actions/nftables/nftables.js";
import { WebhookDispatcher } from "../adapters/actions/webhook/webhook.js";
import { type GeoipLookup, openGeoip } from "../adapters/geoip/maxmind.js";
import { adminRoutes } from "../adapters/http/admin-routes.js";
import { KeyRing, newKey } from "../adapters/http/auth.js";
import { banRoutes } from "../adapters/http/ban-routes.js";
import { callRoutes } from "../adapters/http/calls-routes.js";
import { consoleRoutes } from "../adapters/http/console-routes.js";
import { serveConsole } from "../adapters/http/console-static.js";
import { eventRoutes } from "../adapters/http/event-routes.js";
import { flowRoutes } from "../adapters/http/flow-routes.js";
import { buildHttp } from "../adapters/http/server.js";
import type { ShieldHandle } from "../adapters/http/shield-gateway.js";
import { type FlowCollector, startFlowCollector } from "../adapters/ingest/flow-collector.js";
import { SqliteStore } from "../adapters/store/sqlite/sqlite-store.js";
import type { Store } from "../adapters/store/store.js";
import { type FastAgiServer, startFastAgi } from "../adapters/switch/fastagi.js";
import { CallGuard } from "../calls/guard.js";
import type { NumberingData } from "../calls/numbering.js";
import { shippedDefaults } from "../calls/policy.js";
import { defaultRuleSettings, mergeRuleSettings } from "../calls/rules.js";
import { loadHolidays } from "../config/holidays.js";
import { describeIssues } from "../config/load.js";
import { builtConsoleDir, packageVersion, shippedRulesDir } from "../config/paths.js";
import { loadNumberingData } from "../config/rules-files.js";
import { loadScannerList } from "../config/scanner-list.js";
import { accountsFileSchema, type Config } from "../config/schema.js";
import { CidrSet } from "../core/cidr.js";
import { FlowGuard } from "../flows/engine.js";
import { defaultFlowGuardSettings } from "../flows/settings.js";
import { PbxGuard } from "../sip/guard.js";
import { defaultPbxGuardSettings } from "../sip/settings.js";
import { CallService } from "./call-service.js";
import { FlowService } from "./flow-service.js";
import { History } from "./history.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { type BanEnforcer, PbxService } from "./pbx-service.js";
import { type PbxSources, startPbxSources } from "./pbx-sources.js";
import { startShieldGateway } from "./shield-service.js";
import { StoreHealth } from "./store-health.js";

/**
 * The composition root: the one place where Config becomes running parts. Tests build the same app
 * with overrides (a clock, a store, a logger) instead of reaching into the parts.
 */
export type AppOverrides = {
  readonly log?: Logger | undefined;
  readonly now?: (() => number) | undefined;
  readonly store?: Store | undefined;
  readonly fetch?: typeof fetch | undefined;
  /** More ban enforcers (tests; the Kamailio htable). */
  readonly enforcers?: readonly BanEnforcer[] | undefined;
  /** Do not start timers (tests drive tick() themselves). */
  readonly manualClock?: boolean | undefined;
};

export type App = {
  readonly config: Config;
  readonly http: FastifyInstance;
  readonly calls: CallService;
  readonly pbx: PbxService;
  readonly store: Store;
  readonly metrics: Metrics;
  readonly health: StoreHealth;
  readonly webhooks: WebhookDispatcher;
  readonly log: Logger;
  /** The admin key created on first start with an empty store; shown once, never stored in clear. */
  readonly initialAdminKey: string | undefined;
  listen(): Promise<string>;
  /** Where FastAGI listens, once listen() has run with fastagi enabled. */
  fastagiAddress(): { address: string; port: number } | undefined;
  /** The flow collector's UDP ports, once listen() has run with the flow guard enabled. */
  flowPorts(): { netflow?: number; ipfix?: number; sflow?: number } | undefined;
  readonly flows: FlowService;
  /** Where the billing shield listens, once listen() has run with the shield enabled. */
  shieldAddress(): ShieldHandle["address"] | undefined;
  tick(): Promise<void>;
  close(): Promise<void>;
};

/** Reads an accounts file: the policies, and the CDR reading options it may carry. */
export function loadAccountsFileWithCdr(path: string) {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`${path}: cannot read the accounts file: ${(e as Error).message}`);
  }
  const r = accountsFileSchema.safeParse(doc);
  if (!r.success)
    throw new Error(`${path}: invalid accounts file\n  - ${describeIssues(r.error.issues).join("\n  - ")}`);
  return r.data;
}

export function loadAccountsFile(path: string) {
  return loadAccountsFileWithCdr(path).accounts;
}

/** The call guard as the configuration describes it; `serve` and `replay` build it the same way. */
export function createCallGuard(
  config: Config,
  data?: { numbering: NumberingData; holidays: Map<string, Set<string>> },
  newId?: () => string,
): CallGuard {
  const rulesDir = config.rulesDir ?? shippedRulesDir();
  const cg = config.callGuard;
  return new CallGuard({
    numbering: data?.numbering ?? loadNumberingData(rulesDir),
    holidays: data?.holidays ?? loadHolidays(rulesDir),
    defaults: {
      ...shippedDefaults,
      country: cg.defaultCountry,
      timeZone: cg.defaultTimeZone,
      unknownAccount: cg.unknownAccount,
      caps: {
        ...shippedDefaults.caps,
        ...Object.fromEntries(Object.entries(cg.caps ?? {}).filter(([, v]) => v !== undefined)),
      },
      rules: mergeRuleSettings(defaultRuleSettings, cg.rules),
    },
    assumedCallMinutes: cg.assumedCallMinutes,
    alertSuppressMinutes: cg.alertSuppressMinutes,
    ringTimeoutMinutes: cg.ringTimeoutMinutes,
    staleCallHours: cg.staleCallHours,
    extraEmergencyNumbers: cg.emergencyNumbers,
    newId: newId ? () => newId() : undefined,
  });
}

export async function buildApp(config: Config, o: AppOverrides = {}): Promise<App> {
  const log = o.log ?? pino({ level: config.logging.level, base: { service: "mamori" } });
  const now = o.now ?? Date.now;
  const rulesDir = config.rulesDir ?? shippedRulesDir();
  const numbering = loadNumberingData(rulesDir);
  const holidays = loadHolidays(rulesDir);
  const store = o.store ?? new SqliteStore(config.store.sqlite);
  const metrics = createMetrics();
  const health = new StoreHealth(log, metrics);
  const guard = createCallGuard(
    config,
    { numbering, holidays },
    () => "blk-" + now().toString(36) + "-" + Math.random().toString(36).slice(2, 8),
  );
  const cg = config.callGuard;
  const webhooks = new WebhookDispatcher(config.webhooks, store, log, o.fetch);
  const calls = new CallService(guard, store, health, webhooks, metrics, log);

  if (cg.accountsFile) {
    for (const p of loadAccountsFile(cg.accountsFile)) {
      const current = await store.getAccount(p.id);
      if (JSON.stringify(current) !== JSON.stringify(p)) await store.putAccount(p, "config", now());
    }
  }
  await calls.restore(now(), cg.staleCallHours);

  const pg = config.pbxGuard;
  const pbxSettings = pg.settings ?? defaultPbxGuardSettings;
  const trusted = CidrSet.parse(pg.trusted);
  if (!trusted.ok) throw new Error(`pbxGuard.trusted: ${trusted.error}`);
  let geoip: GeoipLookup | undefined;
  if (pg.geoipDatabase) geoip = await openGeoip(pg.geoipDatabase);
  else
    log.info(
      "PBX guard: no pbxGuard.geoipDatabase, so the new-country rule is idle; new networks (/24, /64) are still watched",
    );
  const pbxGuard = new PbxGuard({
    settings: pbxSettings,
    geoip,
    trusted: trusted.value,
    scanners: loadScannerList(rulesDir),
    historySince: now(),
  });
  const pbx = new PbxService(pbxGuard, store, health, calls, webhooks, metrics, log);
  if (pg.nftables.enabled) {
    const nft = new NftablesBans({ hook: pg.nftables.hook, netns: pg.nftables.netns });
    pbx.addEnforcer({
      name: "nftables",
      ban: (a, ms) => nft.ban(a, ms),
      unban: (a) => nft.unban(a),
      reconcile: (d, t) => nft.reconcile(d, t),
    });
  }
  if (pg.kamailio)
    pbx.addEnforcer(
      new KamailioHtableBans({
        rpcUrl: pg.kamailio.rpcUrl,
        table: pg.kamailio.table,
        timeoutMs: pg.kamailio.timeoutMs,
      }),
    );
  for (const e of o.enforcers ?? []) pbx.addEnforcer(e);
  await pbx.restore(now(), pbxSettings.offenceMemoryDays);
  calls.onInternationalAllowed((account, at) => pbx.noteCall(account, at, true));
  const fgc = config.flowGuard;
  const flowGuard = new FlowGuard(fgc.settings ?? defaultFlowGuardSettings());
  const speaker =
    fgc.enabled && fgc.exabgp
      ? await ExabgpSpeaker.start({
          neighbors: fgc.exabgp.neighbors,
          runDir: fgc.exabgp.runDir,
          netns: fgc.exabgp.netns,
          restartAfterMs: fgc.exabgp.restartAfterMs,
          onLog: (line) => log.debug({ exabgp: line }, "exabgp"),
          onEvent: (e) =>
            e.type === "ack" && !e.ok ? log.error({ e }, "exabgp refused a command") : undefined,
        })
      : undefined;
  const flows = new FlowService(flowGuard, store, health, speaker, pbx, webhooks, metrics, log);
  await flows.restore(now());
  if (cg.kamailio) {
    const rpc = new KamailioRpc({ url: cg.kamailio.rpcUrl, timeoutMs: cg.kamailio.timeoutMs });
    calls.onTerminate((t, dialog) => endKamailioCall(rpc, t, dialog));
  }

  let initialAdminKey: string | undefined;
  if ((await store.listKeys()).length === 0) {
    const { record, secret } = newKey("initial admin", "admin", now());
    await store.insertKey(record);
    await store.appendAudit({
      at: now(),
      actor: "mamori",
      action: "key.create",
      subject: record.id,
      detail: { role: "admin", name: record.name },
    });
    initialAdminKey = secret;
  }

  const keys = new KeyRing(store);
  const version = packageVersion();
  const history = new History();
  const started = now();
  const http = buildHttp({
    routes: [
      ...callRoutes(calls, now),
      ...adminRoutes(calls, store, keys, now),
      ...banRoutes(pbx, store, now),
      ...flowRoutes(flows, store, now),
      ...consoleRoutes({ config, store, guard, history, sampleHistory: (t) => sampleHistory(t), now }),
      ...eventRoutes(webhooks, () => ({
        liveCalls: guard.liveTotal(),
        calls: { ...guard.stats },
        pbx: { ...pbxGuard.stats },
        flows: fgc.enabled ? flows.stats : undefined,
        shield: shield?.stats,
        storeDegraded: health.degraded,
      })),
    ],
    keys,
    metrics,
    log,
    bodyLimit: config.server.bodyLimitBytes,
    version,
    health: () => ({
      status: health.degraded ? "degraded" : "ok",
      checks: {
        store: {
          kind: store.kind,
          writable: !health.degraded,
          degradedSince: health.degradedSince === null ? null : new Date(health.degradedSince).toISOString(),
          lastError: health.lastError,
        },
        liveCalls: guard.liveTotal(),
        webhooks: { ...webhooks.stats },
        shield: shield ? shield.stats : "disabled",
        flowGuard: fgc.enabled
          ? {
              ...flows.stats,
              collector: collector
                ? { ports: collector.ports, exporters: [...collector.stats.exporters()].length }
                : undefined,
            }
          : "disabled",
        pbxGuard: {
          ...pbxGuard.stats,
          sources: sources?.stats(),
          enforcement: Object.fromEntries(pbx.enforcementErrors),
        },
      },
      version,
      uptimeSeconds: Math.round((now() - started) / 1000),
    }),
  });

  const consoleDir = config.server.console ? builtConsoleDir() : undefined;
  if (consoleDir) await serveConsole(http, consoleDir);
  else if (config.server.console)
    log.warn("the operator console is not built (npm run build:console); /console/ is not served");

  let sources: PbxSources | undefined;
  let fastagi: FastAgiServer | undefined;
  let collector: FlowCollector | undefined;
  let shield: ShieldHandle | undefined;
  const timers: NodeJS.Timeout[] = [];
  let lastPrune = 0;
  let lastReconcile = now();
  const sumOf = async (name: string): Promise<number | undefined> => {
    const m = metrics.registry.getSingleMetric(name) as
      | { get(): Promise<{ values: { value: number }[] }> }
      | undefined;
    return m ? (await m.get()).values.reduce((a, v) => a + v.value, 0) : undefined;
  };
  /** The console's per-minute charts, from the running totals the guards keep anyway. */
  const sampleHistory = async (t: number): Promise<void> => {
    history.sample("calls.allowed", "counter", t, guard.stats.authorized);
    history.sample("calls.denied", "counter", t, guard.stats.denied);
    history.sample("calls.internationalSpend", "signed-counter", t, guard.stats.internationalSpend);
    history.sample("pbx.authFailures", "counter", t, pbxGuard.stats.authFailures);
    history.sample("pbx.bans", "counter", t, pbxGuard.stats.bans);
    history.sample("alerts", "counter", t, (await sumOf("mamori_alerts_total")) ?? 0);
    if (shield) {
      history.sample("shield.admitted", "counter", t, (await sumOf("mamori_shield_admitted_total")) ?? 0);
      history.sample("shield.shed", "counter", t, (await sumOf("mamori_shield_shed_total")) ?? 0);
    }
    if (fgc.enabled) {
      let bps = 0;
      let pps = 0;
      for (const h of flowGuard.topHosts(1000)) {
        bps += h.inbound.bps;
        pps += h.inbound.pps;
      }
      history.sample("flows.inboundBps", "gauge", t, bps);
      history.sample("flows.inboundPps", "gauge", t, pps);
    }
  };
  const tick = async (): Promise<void> => {
    const t = now();
    await sampleHistory(t);
    await calls.tick(t);
    await pbx.tick(t);
    if (fgc.enabled) await flows.tick(t);
    if (t - lastReconcile >= pg.reconcileSeconds * 1000) {
      lastReconcile = t;
      await pbx.reconcile(t);
    }
    await webhooks.dispatch(t);
    if (health.degraded) await health.try("probe", () => store.probeWrite(t));
    if (config.store.retentionDays > 0 && t - lastPrune > 3_600_000) {
      lastPrune = t;
      await health.try("prune", () => store.pruneCalls(t - config.store.retentionDays * 86_400_000));
    }
  };

  return {
    config,
    http,
    calls,
    pbx,
    store,
    metrics,
    health,
    webhooks,
    log,
    initialAdminKey,
    tick,
    fastagiAddress: () => fastagi?.address,
    flowPorts: () => collector?.ports,
    shieldAddress: () => shield?.address,
    flows,
    async listen() {
      const address = await http.listen({ host: config.server.host, port: config.server.port });
      sources = await startPbxSources(pg, (e) => pbx.ingest(e), metrics, log);
      if (fgc.enabled) {
        collector = await startFlowCollector({
          host: fgc.collector.host,
          netflowPort: fgc.collector.netflowPort,
          ipfixPort: fgc.collector.ipfixPort,
          sflowPort: fgc.collector.sflowPort,
          onRecord: (r) => flowGuard.count(r),
          ...(fgc.collector.exporters.length ? { exporters: new Set(fgc.collector.exporters) } : {}),
          samplingOverrides: new Map(Object.entries(fgc.collector.sampling)),
          onError: (err) => log.error({ err }, "flow collector socket error"),
        });
        log.info(collector.ports, "flow collector listening");
      }
      if (config.shield.enabled && config.shield.upstream)
        shield = await startShieldGateway(config, pbx, store, health, webhooks, metrics, log);
      if (config.fastagi.enabled) fastagi = await startFastAgi({ ...config.fastagi, calls, log, now });
      if (!o.manualClock) {
        const t = setInterval(() => {
          tick().catch((err) => log.error({ err }, "tick failed"));
        }, 1000);
        t.unref();
        timers.push(t);
      }
      return address;
    },
    async close() {
      for (const t of timers) clearInterval(t);
      await sources?.close();
      await fastagi?.close();
      await collector?.close();
      await shield?.close();
      await speaker?.stop();
      await http.close();
      await store.close();
    },
  };
}
