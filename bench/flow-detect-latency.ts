import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import {
  DISCARD_NEXT_HOP,
  type Flood,
  FlowLab,
  flowLabSkip,
  LAB_NETWORK,
  labNeighbor,
} from "../test/support/flow-lab.js";
import { client, type MamoriProcess, startMamori } from "../test/support/mamori-process.js";
import {
  artifactsDir,
  freePort,
  type PeerProcess,
  startProcess,
  stopAll,
  udpPortInUse,
} from "../test/support/peers.js";
import { fmt, machine } from "./lib/stats.js";

/**
 * How long a flood goes on before it is mitigated: from its first packet to (a) Mamori's decision to
 * announce (the mitigation's `createdAt`, taken at the service's one-second tick), (b) the blackhole
 * route in the BGP peer's table (BIRD, polled every 100 ms through birdc) and (c) FastNetMon's ban
 * (its notify script stamps the time), for the same flood seen through the same telemetry in the same
 * run. The lab is test/support/flow-lab.ts: a bounded UDP flood from random source ports inside
 * network namespaces, watched on the attacker's port of the bridge by
 *
 *   - sFlow v5: pmacctd's sfprobe plugin, sampling 1 in BENCH_FLOW_SAMPLING (10) packets, one copy to
 *     each collector;
 *   - NetFlow v9: softflowd with active timeouts (`-t maxlife=N`) of BENCH_FLOW_MAXLIFE (10,30) s, two
 *     alike instances (softflowd 1.1 sends to one destination only).
 *
 * Mamori and FastNetMon have the same packet-rate threshold (BENCH_FLOW_THRESHOLD pps) and otherwise
 * their shipped averaging (Mamori: a 5 s window; FastNetMon: average_calculation_time 5 s). Each
 * telemetry has its own victim, and the scenarios run one after another, so that two NetFlow
 * exporters never share an exporter address and the floods never share the cores. Mamori is the real
 * `mamori serve`, with ExaBGP in the lab's BGP namespace.
 */
const PPS = Number(process.env.BENCH_FLOW_PPS ?? 2000);
const THRESHOLD = Number(process.env.BENCH_FLOW_THRESHOLD ?? 500);
const SAMPLING = Number(process.env.BENCH_FLOW_SAMPLING ?? 10);
const MAXLIFES = (process.env.BENCH_FLOW_MAXLIFE ?? "10,30").split(",").filter(Boolean).map(Number);

type Scenario = {
  readonly name: string;
  readonly victim: string;
  /** Starts the exporters, sending to Mamori and to FastNetMon. */
  readonly exporters: () => Promise<PeerProcess[]>;
  /** The flood's bound: long enough for the slowest detector. */
  readonly seconds: number;
};

type Result = {
  readonly name: string;
  readonly decision: number | undefined;
  readonly bird: number | undefined;
  readonly fastnetmon: number | undefined;
  readonly kind: string | undefined;
};

function versionOf(pkg: string): string {
  try {
    // "package<TAB>version"
    const out = execFileSync("dpkg-query", ["-W", pkg], { encoding: "utf8", timeout: 5000 });
    return out.trim().split("\t")[1] ?? "?";
  } catch {
    return "?";
  }
}

function mamoriConfig(o: { netflow: number; sflow: number; runDir: string; netns: string }): string {
  return JSON.stringify({
    flowGuard: {
      enabled: true,
      collector: { host: "127.0.0.1", netflowPort: o.netflow, ipfixPort: false, sflowPort: o.sflow },
      settings: {
        networks: [LAB_NETWORK],
        // The default group rather than a host group over the same prefix: on a tie of prefix
        // lengths the network's default group wins, and the group's thresholds would not apply.
        defaultGroup: { thresholds: { pps: THRESHOLD }, learned: false, mitigation: { type: "blackhole" } },
        baselines: { enabled: false },
        attacks: { endAfterSeconds: 5 },
        mitigation: { withdrawAfterSeconds: 5, bgp: { nextHop4: DISCARD_NEXT_HOP } },
      },
      exabgp: { neighbors: [labNeighbor()], runDir: o.runDir, netns: o.netns, restartAfterMs: 1000 },
    },
  });
}

/**
 * FastNetMon on its own ports with the same threshold. Its attack reports go to a hard-wired
 * /var/log/fastnetmon_attacks: it runs in a mount namespace of its own where /var/log is a
 * directory of the run, so that nothing on the host is written. No usage report, API, Prometheus
 * or BGP of its own.
 */
async function startFastnetmon(
  dir: string,
  ports: { netflow: number; sflow: number },
): Promise<{ process: PeerProcess; bans: string }> {
  const fdir = join(dir, "fastnetmon");
  const varLog = join(fdir, "var-log");
  mkdirSync(varLog, { recursive: true });
  writeFileSync(join(fdir, "networks_list"), `${LAB_NETWORK}\n`);
  writeFileSync(join(fdir, "networks_whitelist"), "");
  const bans = join(fdir, "bans.log");
  writeFileSync(bans, "");
  const notify = join(fdir, "notify.sh");
  // Called as: notify.sh IP DIRECTION PPS ACTION, with details on stdin for a ban.
  writeFileSync(notify, `#!/bin/sh\necho "$(date +%s%3N) $*" >> ${bans}\ncat > /dev/null\n`, { mode: 0o755 });
  const conf = join(fdir, "fastnetmon.conf");
  const settings: Record<string, string | number> = {
    logging_level: "info",
    logging_local_syslog_logging: "off",
    logging_remote_syslog_logging: "off",
    disable_usage_report: "on",
    enable_ban: "on",
    enable_ban_ipv6: "off",
    process_incoming_traffic: "on",
    process_outgoing_traffic: "off",
    ban_time: 1900,
    unban_only_if_attack_finished: "on",
    networks_list_path: join(fdir, "networks_list"),
    white_list_path: join(fdir, "networks_whitelist"),
    check_period: 1,
    enable_connection_tracking: "off",
    ban_for_pps: "on",
    ban_for_bandwidth: "off",
    ban_for_flows: "off",
    threshold_pps: THRESHOLD,
    threshold_mbps: 100_000,
    threshold_flows: 1_000_000,
    mirror_afpacket: "off",
    mirror_afxdp: "off",
    mirror_netmap: "off",
    pcap: "off",
    netflow: "on",
    netflow_port: ports.netflow,
    netflow_host: "127.0.0.1",
    netflow_sampling_ratio: 1,
    sflow: "on",
    sflow_port: ports.sflow,
    sflow_host: "127.0.0.1",
    average_calculation_time: 5,
    speed_calculation_delay: 1,
    notify_script_path: notify,
    collect_attack_pcap_dumps: "off",
    redis_enabled: "off",
    mongodb_enabled: "off",
    exabgp: "off",
    gobgp: "off",
    influxdb: "off",
    graphite: "off",
    monitor_local_ip_addresses: "off",
    monitor_openvz_vps_ip_addresses: "off",
    pid_path: join(fdir, "fastnetmon.pid"),
    cli_stats_file_path: join(fdir, "fastnetmon.dat"),
    cli_stats_ipv6_file_path: join(fdir, "fastnetmon_ipv6.dat"),
    enable_api: "off",
    prometheus: "off",
    kafka_traffic_export: "off",
    sort_parameter: "packets",
    max_ips_in_list: 7,
  };
  writeFileSync(
    conf,
    `${Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}`)
      .join("\n")}\n`,
  );
  const run = `mount --bind '${varLog}' /var/log && exec fastnetmon --configuration_file '${conf}' --log_file '${join(fdir, "fastnetmon.log")}' --disable_pid_logic`;
  const process = await startProcess("unshare", ["--mount", "--propagation", "private", "sh", "-c", run], {
    name: "fastnetmon",
    logDir: dir,
    timeoutMs: 20_000,
    readyWhen: async () => (await udpPortInUse(ports.netflow)) && (await udpPortInUse(ports.sflow)),
  });
  return { process, bans };
}

/** pmacctd with the sfprobe plugin on the attacker's port: sFlow v5 to both collectors. */
function startSflowProbe(lab: FlowLab, dir: string, victim: string, ports: number[]): Promise<PeerProcess> {
  const conf = join(dir, "pmacctd.conf");
  const lines = [
    "daemonize: false",
    `pcap_interface: ${lab.ifs.a1}`,
    `pcap_filter: udp and dst host ${victim}`,
    `plugins: ${ports.map((_, i) => `sfprobe[c${i}]`).join(", ")}`,
    `sampling_rate: ${SAMPLING}`,
    ...ports.flatMap((p, i) => [
      `sfprobe_receiver[c${i}]: 127.0.0.1:${p}`,
      `sfprobe_agentip[c${i}]: 127.0.0.1`,
    ]),
  ];
  writeFileSync(conf, `${lines.join("\n")}\n`);
  return startProcess("pmacctd", ["-f", conf], { name: "pmacctd-sfprobe", logDir: dir });
}

export async function benchFlowDetectLatency(): Promise<string> {
  const title = `## Flood to mitigation: sFlow and NetFlow, Mamori and FastNetMon (${fmt(PPS)} pps UDP flood, threshold ${fmt(THRESHOLD)} pps)`;
  const skip = flowLabSkip("softflowd", "pmacctd", "fastnetmon", "unshare");
  if (skip) return `${title}\n\nskipped: ${skip}`;
  const dir = artifactsDir("bench-flow-detect", `run-${Date.now()}-${process.pid}`);
  const victims = ["192.0.2.11", ...MAXLIFES.map((_, i) => `192.0.2.${12 + i}`)];
  const lab = new FlowLab("fgb", victims, dir);
  let mamori: MamoriProcess | undefined;
  const results: Result[] = [];
  try {
    lab.setUp();
    const bird = await lab.startBird();
    const ports = {
      mamori: { netflow: await freePort(), sflow: await freePort() },
      fastnetmon: { netflow: await freePort(), sflow: await freePort() },
    };
    mamori = await startMamori({
      config: mamoriConfig({ ...ports.mamori, runDir: join(dir, "exabgp"), netns: lab.ns.m }),
    });
    const api = client(mamori.url, mamori.adminKey);
    const deadline = Date.now() + 30_000;
    while (!(await bird.established())) {
      if (Date.now() > deadline) throw new Error("no BGP session between Mamori's ExaBGP and BIRD");
      await sleep(250);
    }
    const fnm = await startFastnetmon(dir, ports.fastnetmon);

    const scenarios: Scenario[] = [
      {
        name: `sFlow v5, 1 in ${SAMPLING} (pmacctd sfprobe)`,
        victim: victims[0] as string,
        exporters: async () => [
          await startSflowProbe(lab, dir, victims[0] as string, [ports.mamori.sflow, ports.fastnetmon.sflow]),
        ],
        seconds: 30,
      },
      ...MAXLIFES.map((maxlife, i) => ({
        name: `NetFlow v9, active timeout ${maxlife} s (softflowd)`,
        victim: victims[i + 1] as string,
        // softflowd 1.1 exports to its last -n only: one instance per collector, alike.
        exporters: () =>
          Promise.all(
            [ports.mamori.netflow, ports.fastnetmon.netflow].map((port, k) =>
              lab.softflowd({
                name: `maxlife${maxlife}-${k ? "fastnetmon" : "mamori"}`,
                version: 9 as const,
                port,
                maxlife,
                filter: `udp and dst host ${victims[i + 1]}`,
              }),
            ),
          ),
        seconds: maxlife + 30,
      })),
    ];

    for (const s of scenarios) {
      const exporters = await s.exporters();
      await sleep(1500);
      const flood: Flood = await lab.udpFlood({
        name: `flood-${s.victim}`,
        victim: s.victim,
        sourcePort: 0,
        sockets: 8,
        size: 200,
        pps: PPS,
        seconds: s.seconds,
      });
      const t0 = await flood.startedAt();
      let decision: number | undefined;
      let inBird: number | undefined;
      let banned: number | undefined;
      const end = t0 + s.seconds * 1000 + 5000;
      let nextApi = 0;
      while (Date.now() < end && (decision === undefined || inBird === undefined || banned === undefined)) {
        if (inBird === undefined && (await bird.hasBlackhole(s.victim))) inBird = Date.now();
        if (decision === undefined && Date.now() >= nextApi) {
          nextApi = Date.now() + 500;
          const list = (await api("GET", "/v1/mitigations")).json?.mitigations ?? [];
          const m = list.find((x: { prefix?: string }) => x.prefix === `${s.victim}/32`);
          if (m) decision = Date.parse(m.createdAt);
        }
        if (banned === undefined) {
          const line = readFileSync(fnm.bans, "utf8")
            .split("\n")
            .find((l) => l.split(" ")[1] === s.victim && /\bban\b/.test(l));
          if (line) banned = Number(line.split(" ")[0]);
        }
        await sleep(100);
      }
      await flood.stop();
      for (const e of exporters) await e.stop();
      const health = await api("GET", "/health");
      const top = await api("GET", "/v1/flows/top");
      writeFileSync(
        join(dir, `mamori-${s.victim}.json`),
        JSON.stringify({ health: health.json, top: top.json }, null, 1),
      );
      const attack = ((await api("GET", "/v1/attacks")).json?.attacks ?? []).find(
        (a: { victim: string }) => a.victim === s.victim,
      );
      results.push({
        name: s.name,
        decision: decision === undefined ? undefined : decision - t0,
        bird: inBird === undefined ? undefined : inBird - t0,
        fastnetmon: banned === undefined ? undefined : banned - t0,
        kind: attack?.kind,
      });
    }
    writeFileSync(join(dir, "results.json"), JSON.stringify(results, null, 1));
  } finally {
    await mamori?.stop();
    if (mamori) writeFileSync(join(dir, "mamori.log"), mamori.output());
    await stopAll();
    await lab.tearDown();
  }

  const sec = (ms: number | undefined) => (ms === undefined ? "not within the flood" : fmt(ms / 1000, 1));
  return [
    title,
    `machine: ${machine()}; softflowd ${versionOf("softflowd")}, pmacct ${versionOf("pmacct")}, FastNetMon ${versionOf("fastnetmon")}, ExaBGP ${versionOf("exabgp")}, BIRD ${versionOf("bird2")}; everything on the same cores`,
    "",
    "| telemetry | Mamori decides (s) | route in BIRD (s) | decision to route (ms) | FastNetMon bans (s) | Mamori's verdict |",
    "| --- | ---: | ---: | ---: | ---: | --- |",
    ...results.map(
      (r) =>
        `| ${r.name} | ${sec(r.decision)} | ${sec(r.bird)} | ${r.bird !== undefined && r.decision !== undefined ? fmt(r.bird - r.decision) : ""} | ${sec(r.fastnetmon)} | ${r.kind ?? "none"} |`,
    ),
    "",
    `Seconds from the flood's first packet (one flood per row: ${fmt(PPS)} pps of 200-byte UDP from 8 random ports, bounded). Mamori decides at its one-second tick; the time is the mitigation's createdAt. The route time is the first 100 ms poll of BIRD (fed by Mamori's ExaBGP over iBGP) that shows the /32 with 65535:666. FastNetMon's time is its notify script's; it has no BGP peer here. A NetFlow exporter reports a flow only when the flow expires, so neither collector can know before the active timeout. Then Mamori spreads the record's packets over the seconds it covers and needs a second or two of its 5 s window to pass the threshold, while FastNetMon counts the whole record at once. sFlow reports samples as packets pass. Logs are in test-artifacts/bench-flow-detect/.`,
  ].join("\n");
}

// `tsx bench/flow-detect-latency.ts` runs it alone.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${await benchFlowDetectLatency()}\n`);
}
