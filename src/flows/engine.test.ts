import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FlowGuard } from "./engine.js";
import { Proto } from "./metrics.js";
import { defaultFlowGuardSettings, type FlowGuardSettingsInput } from "./settings.js";
import { randomSource, rng, run, type SyntheticFlow } from "./synthetic.js";

const T0 = Date.UTC(2026, 0, 5, 3, 0, 0); // a Monday, 03:00 UTC
const VICTIM = "192.0.2.10";

function guard(o: FlowGuardSettingsInput = {}): FlowGuard {
  const g = new FlowGuard(
    defaultFlowGuardSettings({
      networks: ["192.0.2.0/24", "2001:db8::/48"],
      baselines: { enabled: false },
      attacks: { endAfterSeconds: 10 },
      ...o,
    }),
  );
  g.tick(T0);
  return g;
}

/** `n` one-packet flows a second of the given shape from random sources. */
function flood(
  n: number,
  shape: (r: () => number) => Omit<SyntheticFlow, "src">,
  seed = 1,
): (t: number) => SyntheticFlow[] {
  const r = rng(seed);
  return () => Array.from({ length: n }, () => ({ src: randomSource(r), ...shape(r) }));
}

const normalWeb = (t: number): SyntheticFlow[] => [
  {
    src: "203.0.113.7",
    dst: VICTIM,
    protocol: Proto.tcp,
    srcPort: 50_000 + (t % 1000),
    dstPort: 443,
    packets: 40,
    bytes: 30_000,
    tcpFlags: 0x1b,
  },
];

describe("FlowGuard attack kinds", () => {
  it("classifies a SYN flood and leaves normal traffic alone", () => {
    const g = guard({ defaultGroup: { thresholds: { synPps: 5000, pps: 100_000 } } });
    const quiet = run(g, T0, 20, normalWeb);
    assert.equal(quiet.attacksStarted.length, 0);
    const syn = flood(8000, (r) => ({
      dst: VICTIM,
      protocol: Proto.tcp,
      srcPort: 1024 + Math.floor(r() * 60000),
      dstPort: 443,
      packets: 1,
      bytes: 60,
      tcpFlags: 0x02,
    }));
    const c = run(g, T0 + 20_000, 10, syn);
    assert.equal(c.attacksStarted.length, 1);
    const a = c.attacksStarted[0]!;
    assert.equal(a.kind, "syn-flood");
    assert.deepEqual(a.victim, { type: "host", address: VICTIM, prefix: `${VICTIM}/32` });
    assert.equal(a.signature.protocol, Proto.tcp);
    assert.equal(a.signature.synOnly, true);
    assert.ok(a.exceeded.some((e) => e.metric === "synPps"));
    assert.equal(c.alerts[0]?.rule, "flows.syn-flood");
    assert.equal(c.alerts[0]?.remedy, "alert"); // shipped default: mitigation none
  });

  it("classifies a UDP flood from random ports, with no port in the signature", () => {
    const g = guard({ defaultGroup: { thresholds: { udpPps: 5000 } } });
    const c = run(
      g,
      T0,
      8,
      flood(9000, (r) => ({
        dst: VICTIM,
        protocol: Proto.udp,
        srcPort: 1024 + Math.floor(r() * 60000),
        dstPort: 80,
        packets: 1,
        bytes: 1000,
      })),
    );
    assert.equal(c.attacksStarted[0]?.kind, "udp-flood");
    assert.deepEqual(c.attacksStarted[0]?.signature.sourcePorts, []);
  });

  it("classifies NTP amplification by source port 123 and derives a Flowspec rule from it", () => {
    const g = guard({
      hostGroups: [
        {
          name: "voip",
          prefixes: ["192.0.2.0/28"],
          thresholds: { mbps: 100 },
          mitigation: { type: "flowspec" },
        },
      ],
    });
    const legit = normalWeb;
    const ntp = flood(4000, () => ({
      dst: VICTIM,
      protocol: Proto.udp,
      srcPort: 123,
      dstPort: 40_000,
      packets: 10,
      bytes: 4680,
    }));
    const c = run(g, T0, 8, (t) => [...legit(t), ...ntp(t)]);
    const a = c.attacksStarted[0]!;
    assert.equal(a.kind, "amplification");
    assert.deepEqual(a.services, ["ntp"]);
    assert.deepEqual(a.signature.sourcePorts, [123]);
    assert.deepEqual(a.signature.packetLength, { min: 256, max: 511 });
    assert.equal(a.group, "voip");
    assert.equal(c.announce.length, 1);
    const m = c.announce[0]!;
    assert.equal(m.type, "flowspec");
    if (m.type !== "flowspec") return;
    assert.deepEqual(m.match, {
      destination: `${VICTIM}/32`,
      protocol: Proto.udp,
      sourcePorts: [123],
      packetLength: { min: 256, max: 511 },
      synOnly: false,
      fragments: false,
    });
    assert.deepEqual(m.action, { type: "discard" });
    assert.match(m.id, /^fs-[0-9a-f]{16}$/);
    assert.equal(m.attackId, a.id);
  });

  it("classifies ICMP and fragment floods", () => {
    const g = guard({ defaultGroup: { thresholds: { icmpPps: 2000, fragmentPps: 2000 } } });
    const icmp = run(
      g,
      T0,
      6,
      flood(3000, () => ({
        dst: "192.0.2.20",
        protocol: Proto.icmp,
        dstPort: 0x0800,
        packets: 1,
        bytes: 84,
      })),
    );
    assert.equal(icmp.attacksStarted[0]?.kind, "icmp-flood");
    const frag = run(
      g,
      T0 + 6000,
      6,
      flood(3000, () => ({ dst: "192.0.2.21", protocol: Proto.udp, packets: 1, bytes: 1480 }), 2),
    );
    assert.equal(frag.attacksStarted[0]?.kind, "fragment-flood");
    assert.equal(frag.attacksStarted[0]?.signature.fragments, true);
  });

  it("sees carpet bombing over a /24 when no single host is over its threshold", () => {
    const g = guard({
      defaultGroup: {
        thresholds: { pps: 5000 },
        prefixThresholds: { pps: 100_000 },
        mitigation: { type: "blackhole" },
      },
    });
    const r = rng(3);
    const carpet = (): SyntheticFlow[] =>
      Array.from({ length: 254 }, (_, i) => ({
        src: randomSource(r),
        dst: `192.0.2.${i + 1}`,
        protocol: Proto.udp,
        srcPort: 53,
        dstPort: 30_000,
        packets: 1000,
        bytes: 1000 * 1400,
      }));
    const c = run(g, T0, 8, carpet);
    assert.equal(c.attacksStarted.length, 1, JSON.stringify(c.attacksStarted.map((a) => a.victim)));
    const a = c.attacksStarted[0]!;
    assert.equal(a.kind, "carpet-bombing");
    assert.equal(a.vector, "amplification");
    assert.deepEqual(a.victim, { type: "prefix", prefix: "192.0.2.0/24" });
    // A blackhole group never drops a whole prefix: it gets a Flowspec rule for the signature.
    assert.equal(c.announce[0]?.type, "flowspec");
  });

  it("counts IPv6 hosts and names their attacks", () => {
    const g6 = guard({ defaultGroup: { thresholds: { udpPps: 1000 } } });
    const v6 = (): SyntheticFlow[] =>
      Array.from({ length: 2000 }, (_, i) => ({
        src: `2001:db8:ffff::${(i + 1).toString(16)}`,
        dst: "2001:db8::53",
        protocol: Proto.udp,
        srcPort: 4000 + i,
        dstPort: 53,
        packets: 1,
        bytes: 100,
      }));
    const c6 = run(g6, T0, 6, v6);
    assert.equal(c6.attacksStarted[0]?.victim.prefix, "2001:db8::53/128");
  });
});

describe("FlowGuard thresholds", () => {
  it("applies each host group's own thresholds", () => {
    const g = guard({
      hostGroups: [
        { name: "small", prefixes: ["192.0.2.0/25"], thresholds: { pps: 1000 } },
        { name: "big", prefixes: ["192.0.2.128/25"], thresholds: { pps: 100_000 } },
      ],
    });
    const traffic = (): SyntheticFlow[] => [
      {
        src: "203.0.113.1",
        dst: "192.0.2.5",
        protocol: Proto.udp,
        srcPort: 9999,
        dstPort: 9999,
        packets: 5000,
        bytes: 5000 * 200,
      },
      {
        src: "203.0.113.1",
        dst: "192.0.2.200",
        protocol: Proto.udp,
        srcPort: 9999,
        dstPort: 9999,
        packets: 5000,
        bytes: 5000 * 200,
      },
    ];
    const c = run(g, T0, 8, traffic);
    assert.deepEqual(
      c.attacksStarted.map((a) => [a.victim.type === "host" ? a.victim.address : "", a.group]),
      [["192.0.2.5", "small"]],
    );
  });

  it("spreads a long flow over its duration instead of counting it in one second", () => {
    const g = guard({ defaultGroup: { thresholds: { pps: 5000 } } });
    // One 60-second flow of 1000 pps, reported once: a spike of 60 000 packets in a second if not spread.
    const c = run(g, T0, 30, (t) =>
      t === T0 + 1000
        ? [
            {
              src: "203.0.113.1",
              dst: VICTIM,
              protocol: Proto.tcp,
              srcPort: 443,
              dstPort: 50000,
              packets: 60_000,
              bytes: 6e7,
              durationMs: 60_000,
              tcpFlags: 0x18,
            },
          ]
        : [],
    );
    assert.equal(c.attacksStarted.length, 0);
    const top = g.topHosts(1)[0]!;
    assert.equal(top.address, VICTIM);
    assert.ok(Math.abs(top.inbound.pps - 1000) < 50, `rate ${top.inbound.pps}`);
  });

  it("counts inbound and outbound per protocol", () => {
    const g = guard();
    run(g, T0, 6, () => [
      {
        src: "203.0.113.1",
        dst: VICTIM,
        protocol: Proto.tcp,
        srcPort: 443,
        dstPort: 5000,
        packets: 100,
        bytes: 100_000,
        tcpFlags: 0x18,
      },
      {
        src: VICTIM,
        dst: "203.0.113.1",
        protocol: Proto.udp,
        srcPort: 5060,
        dstPort: 5060,
        packets: 10,
        bytes: 8000,
      },
      { src: "203.0.113.1", dst: VICTIM, protocol: 47, packets: 20, bytes: 20_000 },
    ]);
    const h = g.topHosts(1)[0]!;
    assert.equal(h.inbound.tcpPps, 100);
    assert.equal(h.inbound.otherPps, 20);
    assert.equal(h.inbound.bps, 120_000 * 8);
    assert.equal(h.outbound.udpPps, 10);
    assert.equal(h.outbound.pps, 10);
  });

  it("reports a protected host flooding others as an outbound attack, without mitigating it", () => {
    const g = guard({
      defaultGroup: { thresholds: {}, outboundThresholds: { pps: 5000 }, mitigation: { type: "blackhole" } },
    });
    const c = run(g, T0, 6, () => [
      {
        src: VICTIM,
        dst: "203.0.113.50",
        protocol: Proto.udp,
        srcPort: 5000,
        dstPort: 53,
        packets: 20_000,
        bytes: 20_000 * 80,
      },
    ]);
    assert.equal(c.attacksStarted[0]?.direction, "outbound");
    assert.equal(c.alerts[0]?.rule, "flows.outbound");
    assert.equal(c.announce.length, 0);
  });

  it("still counts prefixes when the host table is full", () => {
    const g = guard({
      maxHosts: 16,
      defaultGroup: { thresholds: { pps: 1e9 }, prefixThresholds: { pps: 50_000 } },
    });
    const c = run(g, T0, 6, () =>
      Array.from({ length: 200 }, (_, i) => ({
        src: "198.18.0.9",
        dst: `192.0.2.${i + 1}`,
        protocol: Proto.udp,
        srcPort: 7,
        dstPort: 7,
        packets: 500,
        bytes: 500 * 100,
      })),
    );
    assert.ok(g.stats.hostsRefused > 0);
    assert.equal(c.attacksStarted[0]?.kind, "carpet-bombing");
    // 200 hosts × 500 pps once the window is full, though only 16 hosts are tracked one by one.
    assert.equal(g.attacks()[0]?.current.pps, 100_000);
  });

  it("exports and imports a host's learned profile", () => {
    const g = guard({ baselines: { enabled: true, ema: { warmupMinutes: 0 } } });
    run(g, T0, 300, normalWeb, 60);
    const p = g.exportProfile(VICTIM);
    assert.ok(p && p.emaMinutes > 0);
    const h = guard({ baselines: { enabled: true } });
    assert.equal(h.importProfile(VICTIM, p!), true);
    assert.deepEqual(h.exportProfile(VICTIM), p);
    assert.equal(h.importProfile("203.0.113.1", p!), false);
  });
});
