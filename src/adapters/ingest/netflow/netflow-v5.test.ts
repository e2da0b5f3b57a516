import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { mutate, netflowV5, strictBytes, type V5Record } from "../../../../test/support/flow-packets.js";
import { fixture } from "../../../../test/support/paths.js";
import {
  copyFlowRecord,
  DecodeStats,
  type FlowRecord,
  Fragment,
  ipv4Number,
  ipv4Text,
} from "../../../core/flow-records.js";
import { NetflowV5Decoder } from "./netflow-v5.js";

function collect(o: { samplingOverrides?: ReadonlyMap<string, number> } = {}) {
  const out: Readonly<FlowRecord>[] = [];
  const stats = new DecodeStats();
  const dec = new NetflowV5Decoder({ onRecord: (r) => out.push(copyFlowRecord(r)), stats, ...o });
  return { out, stats, dec };
}

const EXPORTER = "192.0.2.1";
const SECS = 1_700_000_000;
const rec = (over: Partial<V5Record> = {}): V5Record => ({
  src: "198.51.100.7",
  dst: "203.0.113.10",
  input: 3,
  output: 7,
  packets: 10,
  bytes: 8000,
  first: 50_000,
  last: 59_000,
  srcPort: 40_000,
  dstPort: 443,
  tcpFlags: 0x1b,
  protocol: 6,
  ...over,
});

describe("NetFlow v5", () => {
  it("decodes the header and records, converting uptime to epoch ms", () => {
    const { out, stats, dec } = collect();
    const pkt = netflowV5(
      { uptime: 60_000, unixSecs: SECS, unixNsecs: 250_000_000, engineType: 1, engineId: 2 },
      [
        rec(),
        rec({ src: "10.0.0.1", dst: "10.0.0.2", protocol: 17, srcPort: 53, dstPort: 5353, tcpFlags: 0 }),
      ],
    );
    assert.equal(dec.decode(pkt, EXPORTER, 0), true);
    assert.equal(out.length, 2);
    const r = out[0]!;
    assert.equal(r.source, "netflow5");
    assert.equal(r.exporter, EXPORTER);
    assert.equal(r.domain, 0x0102);
    assert.equal(r.ipVersion, 4);
    assert.equal(ipv4Text(r.src4), "198.51.100.7");
    assert.equal(r.dst4, ipv4Number("203.0.113.10"));
    assert.equal(r.src6, "");
    assert.deepEqual([r.protocol, r.srcPort, r.dstPort, r.tcpFlags], [6, 40_000, 443, 0x1b]);
    assert.deepEqual([r.inIf, r.outIf], [3, 7]);
    assert.deepEqual([r.packets, r.bytes, r.rawPackets, r.rawBytes, r.samplingRate], [10, 8000, 10, 8000, 1]);
    const exportMs = SECS * 1000 + 250;
    assert.equal(r.start, exportMs - 10_000);
    assert.equal(r.end, exportMs - 1_000);
    assert.equal(r.fragment, Fragment.unknown);
    assert.equal(out[1]!.protocol, 17);
    assert.equal(stats.get(EXPORTER)!.records, 2);
  });

  it("applies the header's sampling interval, unless the caller overrides it", () => {
    const pkt = netflowV5({ uptime: 60_000, unixSecs: SECS, samplingMode: 1, samplingInterval: 100 }, [
      rec(),
    ]);
    const a = collect();
    a.dec.decode(pkt, EXPORTER, 0);
    assert.deepEqual([a.out[0]!.packets, a.out[0]!.bytes, a.out[0]!.samplingRate], [1000, 800_000, 100]);
    assert.deepEqual([a.out[0]!.rawPackets, a.out[0]!.rawBytes], [10, 8000]);
    const b = collect({ samplingOverrides: new Map([[EXPORTER, 64]]) });
    b.dec.decode(pkt, EXPORTER, 0);
    assert.deepEqual([b.out[0]!.packets, b.out[0]!.samplingRate], [640, 64]);
  });

  it("keeps flow times right across the 32-bit uptime wrap", () => {
    const { out, dec } = collect();
    const pkt = netflowV5({ uptime: 2_000, unixSecs: SECS }, [
      rec({ first: 0xffffffff - 2_999, last: 1_000 }),
    ]);
    dec.decode(pkt, EXPORTER, 0);
    assert.equal(out[0]!.start, SECS * 1000 - 5_000);
    assert.equal(out[0]!.end, SECS * 1000 - 1_000);
  });

  it("counts and drops truncated packets and other versions", () => {
    const { out, stats, dec } = collect();
    const pkt = netflowV5({ uptime: 1, unixSecs: SECS }, [rec(), rec()]);
    assert.equal(dec.decode(pkt.subarray(0, pkt.length - 1), EXPORTER, 0), false);
    assert.equal(dec.decode(pkt.subarray(0, 10), EXPORTER, 0), false);
    assert.equal(
      dec.decode(netflowV5({ uptime: 1, unixSecs: SECS, count: 3 }, [rec(), rec()]), EXPORTER, 0),
      false,
    );
    const v9 = Buffer.from(pkt);
    v9.writeUInt16BE(9, 0);
    assert.equal(dec.decode(v9, EXPORTER, 0), false);
    assert.equal(out.length, 0);
    const s = stats.get(EXPORTER)!;
    assert.equal(s.errors.truncated, 3);
    assert.equal(s.errors.badVersion, 1);
    assert.equal(s.failedPackets, 4);
  });

  it("decodes softflowd's export of the fixture traffic as nfdump does", () => {
    const { out, stats, dec } = collect();
    const dir = fixture("flows");
    for (const f of readdirSync(dir).filter((n) => n.startsWith("softflowd-netflow-v5-"))) {
      assert.equal(dec.decode(readFileSync(`${dir}/${f}`), "127.0.0.1", 0), true, f);
    }
    assert.equal(out.length, 30);
    assert.equal(
      out.reduce((n, r) => n + r.packets, 0),
      47,
    );
    assert.equal(
      out.reduce((n, r) => n + r.bytes, 0),
      16448,
    );
    const icmp = out.find((r) => r.protocol === 1)!;
    assert.equal(ipv4Text(icmp.src4), "198.51.100.77");
    assert.equal(icmp.dstPort, 8 << 8);
    const https = out.filter((r) => r.dstPort === 443);
    assert.equal(https.length, 3);
    assert.ok(https.every((r) => r.tcpFlags === 0x1b));
    assert.equal(stats.errorCount(), 0);
  });

  describe("fuzzing", () => {
    const valid = netflowV5({ uptime: 60_000, unixSecs: SECS, samplingInterval: 10 }, [rec(), rec(), rec()]);

    it("never throws or reads past the end on random bytes, and counts every failure", () => {
      const { stats, dec } = collect();
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, v5) => {
          if (v5 && bytes.length >= 2) bytes.set([0, 5]);
          const before = stats.errorCount();
          const ok = dec.decode(strictBytes(bytes), "fuzz", 0);
          return ok ? stats.errorCount() === before : stats.errorCount() === before + 1;
        }),
        { numRuns: 3000 },
      );
      assert.equal(stats.get("fuzz")!.errors.internal, 0);
    });

    it("refuses and counts every truncation of a valid packet", () => {
      const { out, stats, dec } = collect();
      fc.assert(
        fc.property(fc.integer({ min: 0, max: valid.length - 1 }), (n) => {
          const before = stats.errorCount();
          return (
            !dec.decode(strictBytes(valid.subarray(0, n)), "cut", 0) && stats.errorCount() === before + 1
          );
        }),
      );
      assert.equal(out.length, 0);
    });

    it("survives mutations of a valid packet", () => {
      const { stats, dec } = collect();
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
          (patches) => {
            const before = stats.errorCount();
            const ok = dec.decode(strictBytes(mutate(valid, patches)), "mut", 0);
            return ok === (stats.errorCount() === before);
          },
        ),
        { numRuns: 2000 },
      );
      assert.equal(stats.get("mut")?.errors.internal ?? 0, 0);
    });
  });
});
