import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  ETH_IPV4,
  ETH_IPV6,
  ethernet,
  field,
  icmpMessage,
  ipv4Packet,
  ipv6Packet,
  mutate,
  sflowCounterSample,
  sflowDatagram,
  sflowExtendedSwitch,
  sflowFlowSample,
  sflowGenericCounters,
  sflowItem,
  sflowRawHeader,
  strictBytes,
  tcpSegment,
  udpDatagram,
} from "../../../../test/support/flow-packets.js";
import { fixture } from "../../../../test/support/paths.js";
import {
  copyFlowRecord,
  DecodeStats,
  type FlowRecord,
  Fragment,
  type InterfaceCounters,
  ipv4Text,
} from "../../../core/flow-records.js";
import { SflowDecoder } from "./sflow.js";

const SOURCE = "192.0.2.30";
const AT = 1_700_000_000_000;

function collect(o: { samplingOverrides?: ReadonlyMap<string, number> } = {}) {
  const out: Readonly<FlowRecord>[] = [];
  const counters: InterfaceCounters[] = [];
  const stats = new DecodeStats();
  const dec = new SflowDecoder({
    onRecord: (r) => out.push(copyFlowRecord(r)),
    onCounters: (c) => counters.push({ ...c }),
    stats,
    ...o,
  });
  const st = () => stats.get(SOURCE)!;
  return { out, counters, stats, dec, st };
}

const tcpFrame = (flags = 0x02, vlans: number[] = []) =>
  ethernet(
    ETH_IPV4,
    ipv4Packet("198.51.100.4", "203.0.113.80", 6, tcpSegment(33_000, 80, flags, 1000)),
    vlans,
  );

describe("sFlow v5", () => {
  it("decodes a flow sample's raw Ethernet header with VLAN, and scales by the sampling rate", () => {
    const { out, dec, st } = collect();
    const frame = tcpFrame(0x18, [100]);
    const dg = sflowDatagram({ agent: "192.0.2.1", subAgent: 2, sequence: 9, uptime: 1000 }, [
      sflowFlowSample({ rate: 1000, input: 3, output: 0x3fffffff, records: [sflowRawHeader(frame)] }),
    ]);
    assert.equal(dec.decode(dg, SOURCE, AT), true);
    assert.equal(out.length, 1);
    const r = out[0]!;
    assert.equal(r.source, "sflow5");
    assert.equal(r.exporter, "192.0.2.1");
    assert.equal(r.domain, 2);
    assert.equal(r.vlan, 100);
    assert.deepEqual(
      [ipv4Text(r.src4), ipv4Text(r.dst4), r.protocol, r.srcPort, r.dstPort, r.tcpFlags],
      ["198.51.100.4", "203.0.113.80", 6, 33_000, 80, 0x18],
    );
    assert.equal(r.fragment, Fragment.no);
    assert.deepEqual([r.samplingRate, r.packets, r.rawPackets], [1000, 1000, 1]);
    assert.deepEqual([r.rawBytes, r.bytes], [frame.length + 4, (frame.length + 4) * 1000]);
    assert.deepEqual([r.inIf, r.outIf], [3, 0]);
    assert.deepEqual([r.start, r.end], [AT, AT]);
    assert.equal(st().records, 1);
  });

  it("reads IPv4 fragments: the first has ports, later ones do not", () => {
    const { out, dec } = collect();
    const udp = udpDatagram(5060, 5060, 2000);
    const first = ethernet(
      ETH_IPV4,
      ipv4Packet("192.0.2.5", "203.0.113.1", 17, udp.subarray(0, 1480), { flags: 1 }),
    );
    const later = ethernet(
      ETH_IPV4,
      ipv4Packet("192.0.2.5", "203.0.113.1", 17, udp.subarray(1480), { offset: 185 }),
    );
    const dg = sflowDatagram({ agent: "192.0.2.1" }, [
      sflowFlowSample({ rate: 10, records: [sflowRawHeader(first)] }),
      sflowFlowSample({ rate: 10, records: [sflowRawHeader(later)] }),
    ]);
    dec.decode(dg, SOURCE, AT);
    assert.deepEqual(
      out.map((r) => [r.fragment, r.srcPort, r.dstPort]),
      [
        [Fragment.yes, 5060, 5060],
        [Fragment.yes, 0, 0],
      ],
    );
  });

  it("reads IPv6 (with a fragment header), ICMP and headers given without Ethernet", () => {
    const { out, dec } = collect();
    const v6 = ethernet(ETH_IPV6, ipv6Packet("2001:db8::1", "2001:db8::2", 17, udpDatagram(4000, 53, 40)));
    const v6frag = ipv6Packet("2001:db8::1", "2001:db8::2", 17, udpDatagram(4000, 53, 40), {
      offset: 0,
      more: true,
    });
    const icmp = ipv4Packet("192.0.2.7", "203.0.113.9", 1, icmpMessage(3, 4));
    const icmp6 = ethernet(ETH_IPV6, ipv6Packet("2001:db8::1", "2001:db8::2", 58, icmpMessage(128, 0)));
    const dg = sflowDatagram({ agent: "192.0.2.1" }, [
      sflowFlowSample({ rate: 1, records: [sflowRawHeader(v6)] }),
      sflowFlowSample({ rate: 1, records: [sflowRawHeader(v6frag, { protocol: 12 })] }),
      sflowFlowSample({ rate: 1, records: [sflowRawHeader(icmp, { protocol: 11 })] }),
      sflowFlowSample({ rate: 1, records: [sflowRawHeader(icmp6)] }),
    ]);
    assert.equal(dec.decode(dg, SOURCE, AT), true);
    const [a, b, c, d] = out;
    assert.deepEqual(
      [a!.ipVersion, a!.src6, a!.dst6, a!.protocol, a!.dstPort, a!.fragment],
      [6, "2001:db8::1", "2001:db8::2", 17, 53, 0],
    );
    assert.deepEqual([b!.fragment, b!.protocol, b!.dstPort], [Fragment.yes, 17, 53]);
    assert.deepEqual([c!.ipVersion, c!.protocol, c!.dstPort], [4, 1, (3 << 8) | 4]);
    assert.deepEqual([d!.protocol, d!.dstPort], [58, 128 << 8]);
  });

  it("decodes expanded flow samples, an IPv6 agent, extended switch data and sampled IPv4", () => {
    const { out, dec } = collect();
    const sampledIpv4 = sflowItem(
      3,
      Buffer.concat([
        field(4, 1500),
        field(4, 17),
        field(4, "192.0.2.44"),
        field(4, "203.0.113.8"),
        field(4, 5062),
        field(4, 5060),
        field(4, 0),
        field(4, 0),
      ]),
    );
    const dg = sflowDatagram({ agent: "2001:db8::fe", subAgent: 1 }, [
      sflowFlowSample(
        {
          rate: 256,
          input: 70_000,
          output: 12,
          records: [sflowRawHeader(tcpFrame()), sflowExtendedSwitch(30, 30)],
        },
        true,
      ),
      sflowFlowSample({ rate: 256, records: [sampledIpv4] }, true),
    ]);
    assert.equal(dec.decode(dg, SOURCE, AT), true);
    assert.deepEqual(
      [out[0]!.exporter, out[0]!.inIf, out[0]!.outIf, out[0]!.vlan],
      ["2001:db8::fe", 70_000, 12, 30],
    );
    assert.deepEqual(
      [ipv4Text(out[1]!.dst4), out[1]!.dstPort, out[1]!.bytes, out[1]!.packets],
      ["203.0.113.8", 5060, 1500 * 256, 256],
    );
  });

  it("hands generic interface counters, plain and expanded, to the counters sink", () => {
    const { counters, dec, st } = collect();
    const dg = sflowDatagram({ agent: "192.0.2.1", uptime: 360_000 }, [
      sflowCounterSample({
        sequence: 5,
        records: [
          sflowItem(2, Buffer.alloc(52)),
          sflowGenericCounters({
            ifIndex: 7,
            ifSpeed: 10e9,
            inOctets: 2 ** 40 + 5,
            outOctets: 77,
            inErrors: 3,
          }),
        ],
      }),
      sflowCounterSample(
        { sequence: 6, records: [sflowGenericCounters({ ifIndex: 8, inOctets: 1, outOctets: 2 })] },
        true,
      ),
    ]);
    assert.equal(dec.decode(dg, SOURCE, AT), true);
    assert.equal(counters.length, 2);
    const c = counters[0]!;
    assert.deepEqual(
      [c.exporter, c.ifIndex, c.ifSpeed, c.inOctets, c.outOctets, c.inErrors, c.uptime, c.sequence, c.at],
      ["192.0.2.1", 7, 10e9, 2 ** 40 + 5, 77, 3, 360_000, 5, AT],
    );
    assert.equal(counters[1]!.ifIndex, 8);
    assert.equal(st().counters, 2);
  });

  it("skips unknown sample and record formats by their length", () => {
    const { out, dec } = collect();
    const dg = sflowDatagram({ agent: "192.0.2.1" }, [
      sflowItem(7, Buffer.alloc(20, 0xee)),
      sflowItem(1, Buffer.alloc(12, 0xee), 8800),
      sflowFlowSample({
        rate: 4,
        records: [sflowItem(2001, Buffer.alloc(9, 1)), sflowRawHeader(tcpFrame())],
      }),
    ]);
    assert.equal(dec.decode(dg, SOURCE, AT), true);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.dstPort, 80);
  });

  it("applies the caller's sampling override", () => {
    const { out, dec } = collect({ samplingOverrides: new Map([[SOURCE, 8]]) });
    dec.decode(
      sflowDatagram({ agent: "192.0.2.1" }, [
        sflowFlowSample({ rate: 1000, records: [sflowRawHeader(tcpFrame())] }),
      ]),
      SOURCE,
      AT,
    );
    assert.deepEqual([out[0]!.samplingRate, out[0]!.packets], [8, 8]);
  });

  it("counts and drops truncated and malformed datagrams", () => {
    const { out, counters, dec, st } = collect();
    const good = sflowDatagram({ agent: "192.0.2.1" }, [
      sflowFlowSample({ rate: 4, records: [sflowRawHeader(tcpFrame())] }),
    ]);
    assert.equal(dec.decode(good.subarray(0, good.length - 4), SOURCE, AT), false);
    assert.equal(dec.decode(good.subarray(0, 20), SOURCE, AT), false);
    assert.equal(dec.decode(sflowDatagram({ agent: "192.0.2.1" }, [], 2), SOURCE, AT), false);
    const v4 = Buffer.from(good);
    v4.writeUInt32BE(4, 0);
    assert.equal(dec.decode(v4, SOURCE, AT), false);
    const agentType = Buffer.from(good);
    agentType.writeUInt32BE(3, 4);
    assert.equal(dec.decode(agentType, SOURCE, AT), false);
    // A flow record longer than its sample, and a generic counter record too short to hold the counters.
    const longRecord = Buffer.concat([field(4, 1), field(4, 64), Buffer.alloc(8)]);
    const badFlow = sflowDatagram({ agent: "192.0.2.1" }, [
      sflowItem(1, Buffer.concat([Buffer.alloc(28), field(4, 1), longRecord])),
    ]);
    assert.equal(dec.decode(badFlow, SOURCE, AT), false);
    const shortCounters = sflowCounterSample({ records: [sflowItem(1, Buffer.alloc(40))] });
    assert.equal(dec.decode(sflowDatagram({ agent: "192.0.2.1" }, [shortCounters]), SOURCE, AT), false);
    assert.equal(out.length + counters.length, 0);
    assert.deepEqual(
      [st().errors.truncated, st().errors.badVersion, st().errors.unsupported, st().errors.badSample],
      [3, 1, 1, 2],
    );
  });

  it("decodes pmacctd's sFlow export of the fixture traffic as nfdump does", () => {
    const { out, dec, stats } = collect();
    const dir = fixture("flows");
    for (const f of readdirSync(dir).filter((n) => n.startsWith("pmacctd-sflow-"))) {
      assert.equal(dec.decode(readFileSync(`${dir}/${f}`), "127.0.0.1", AT), true, f);
    }
    assert.equal(out.length, 52);
    assert.equal(
      out.reduce((n, r) => n + r.bytes, 0),
      19460,
    );
    assert.ok(out.every((r) => r.exporter === "192.0.2.250" && r.samplingRate === 1));
    assert.equal(out.filter((r) => r.vlan === 42).length, 3);
    assert.equal(out.filter((r) => r.fragment === Fragment.yes).length, 2);
    assert.equal(out.filter((r) => r.ipVersion === 6).length, 5);
    assert.equal(out.filter((r) => r.protocol === 6 && r.tcpFlags === 0x02).length, 4);
    assert.equal(stats.errorCount(), 0);
  });

  it("decodes the hand-built counters fixture", () => {
    const { out, counters, dec } = collect();
    assert.equal(
      dec.decode(readFileSync(fixture("flows", "handmade-sflow-counters.bin")), "127.0.0.1", AT),
      true,
    );
    assert.equal(out.length, 1);
    assert.deepEqual(
      [out[0]!.exporter, out[0]!.domain, out[0]!.src6, out[0]!.dstPort, out[0]!.vlan, out[0]!.packets],
      ["2001:db8::fe", 3, "2001:db8:5::1", 5061, 7, 512],
    );
    assert.deepEqual(
      counters.map((c) => [c.ifIndex, c.inOctets, c.outOctets]),
      [
        [4, 123_456_789_012, 98_765_432_109],
        [9, 5_000, 6_000],
      ],
    );
  });

  describe("fuzzing", () => {
    const valid = sflowDatagram({ agent: "192.0.2.1", subAgent: 1, sequence: 2, uptime: 3 }, [
      sflowFlowSample({
        rate: 100,
        records: [sflowRawHeader(tcpFrame(0x02, [5])), sflowExtendedSwitch(5, 5)],
      }),
      sflowFlowSample(
        {
          rate: 100,
          records: [
            sflowRawHeader(
              ipv6Packet("2001:db8::1", "2001:db8::2", 17, udpDatagram(1, 2, 10), { offset: 0, more: true }),
              { protocol: 12 },
            ),
          ],
        },
        true,
      ),
      sflowCounterSample({ records: [sflowGenericCounters({ ifIndex: 1, inOctets: 1, outOctets: 1 })] }),
    ]);

    it("accepts the fuzzing seed datagram", () => {
      const { out, counters, dec } = collect();
      assert.equal(dec.decode(valid, SOURCE, AT), true);
      assert.deepEqual([out.length, counters.length], [2, 1]);
    });

    it("never throws or reads past the end on random bytes, and counts every failure", () => {
      const { stats, dec } = collect();
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, v5) => {
          if (v5 && bytes.length >= 8) bytes.set([0, 0, 0, 5, 0, 0, 0, 1]);
          const before = stats.errorCount();
          const ok = dec.decode(strictBytes(bytes), "fuzz", AT);
          return ok === (stats.errorCount() === before);
        }),
        { numRuns: 3000 },
      );
      assert.equal(stats.get("fuzz")!.errors.internal, 0);
    });

    it("refuses and counts every truncation of a valid datagram", () => {
      const { out, stats, dec } = collect();
      fc.assert(
        fc.property(fc.integer({ min: 0, max: valid.length - 1 }), (n) => {
          const before = stats.errorCount();
          return (
            !dec.decode(strictBytes(valid.subarray(0, n)), "cut", AT) && stats.errorCount() === before + 1
          );
        }),
        { numRuns: 500 },
      );
      assert.equal(out.length, 0);
    });

    it("survives mutations of a valid datagram", () => {
      const { stats, dec } = collect();
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
          (patches) => {
            const before = stats.errorCount();
            const ok = dec.decode(strictBytes(mutate(valid, patches)), "mut", AT);
            return ok === (stats.errorCount() === before);
          },
        ),
        { numRuns: 3000 },
      );
      assert.equal(stats.get("mut")?.errors.internal ?? 0, 0);
    });
  });
});
