import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  dataRecord,
  dataSet,
  type FieldSpec,
  mutate,
  netflowV9,
  strictBytes,
  v9OptionsTemplateFlowset,
  v9TemplateFlowset,
} from "../../../../test/support/flow-packets.js";
import { fixture } from "../../../../test/support/paths.js";
import { copyFlowRecord, DecodeStats, type FlowRecord, ipv4Text } from "../../../core/flow-records.js";
import type { TemplateStoreOptions } from "../flow-templates/template-store.js";
import { NetflowV9Decoder } from "./netflow-v9.js";

const EXPORTER = "192.0.2.9";
const SECS = 1_700_000_000;

function collect(o: TemplateStoreOptions & { samplingOverrides?: ReadonlyMap<string, number> } = {}) {
  const out: Readonly<FlowRecord>[] = [];
  const stats = new DecodeStats();
  const dec = new NetflowV9Decoder({ onRecord: (r) => out.push(copyFlowRecord(r)), stats, ...o });
  const st = () => stats.get(EXPORTER)!;
  return { out, stats, dec, st };
}

/** src, dst, sport, dport, proto, flags, bytes, packets, first, last, in, out */
const V4: FieldSpec[] = [
  [8, 4],
  [12, 4],
  [7, 2],
  [11, 2],
  [4, 1],
  [6, 1],
  [1, 4],
  [2, 4],
  [22, 4],
  [21, 4],
  [10, 2],
  [14, 2],
];
const v4 = (src: string, dst: string, bytes: number, packets: number, first = 90_000, last = 95_000) =>
  dataRecord([
    [4, src],
    [4, dst],
    [2, 40_000],
    [2, 443],
    [1, 6],
    [1, 0x12],
    [4, bytes],
    [4, packets],
    [4, first],
    [4, last],
    [2, 5],
    [2, 6],
  ]);

/** With a sampler id (48). */
const V4_SAMPLER: FieldSpec[] = [...V4, [48, 1]];

const V6: FieldSpec[] = [
  [27, 16],
  [28, 16],
  [7, 2],
  [11, 2],
  [4, 1],
  [1, 8],
  [2, 8],
];

const header = (count: number, o: { uptime?: number; sequence?: number; sourceId?: number } = {}) => ({
  uptime: o.uptime ?? 100_000,
  unixSecs: SECS,
  sequence: o.sequence ?? 1,
  sourceId: o.sourceId ?? 0,
  count,
});

describe("NetFlow v9", () => {
  it("decodes data with a template from the same packet", () => {
    const { out, dec, st } = collect();
    const pkt = netflowV9(header(3), [
      v9TemplateFlowset([{ id: 256, fields: V4 }]),
      dataSet(256, [v4("198.51.100.1", "203.0.113.5", 1500, 3), v4("198.51.100.2", "203.0.113.5", 40, 1)]),
    ]);
    assert.equal(dec.decode(pkt, EXPORTER, 0), true);
    assert.equal(out.length, 2);
    const r = out[0]!;
    assert.equal(r.source, "netflow9");
    assert.equal(ipv4Text(r.src4), "198.51.100.1");
    assert.equal(ipv4Text(r.dst4), "203.0.113.5");
    assert.deepEqual([r.srcPort, r.dstPort, r.protocol, r.tcpFlags], [40_000, 443, 6, 0x12]);
    assert.deepEqual([r.bytes, r.packets, r.samplingRate], [1500, 3, 1]);
    assert.deepEqual([r.inIf, r.outIf], [5, 6]);
    assert.equal(r.start, SECS * 1000 - 10_000);
    assert.equal(r.end, SECS * 1000 - 5_000);
    assert.equal(st().templates, 1);
    assert.equal(st().records, 2);
  });

  it("decodes IPv6 flows with 8-byte counters", () => {
    const { out, dec } = collect();
    const rec = dataRecord([
      [16, "2001:db8::1"],
      [16, "2001:db8:0:0:1::ff"],
      [2, 5060],
      [2, 5060],
      [1, 17],
      [8, 2n ** 40n],
      [8, 3],
    ]);
    const pkt = netflowV9(header(2), [v9TemplateFlowset([{ id: 300, fields: V6 }]), dataSet(300, [rec])]);
    assert.equal(dec.decode(pkt, EXPORTER, 0), true);
    const r = out[0]!;
    assert.equal(r.ipVersion, 6);
    assert.equal(r.src6, "2001:db8::1");
    assert.equal(r.dst6, "2001:db8::1:0:0:ff");
    assert.equal(r.src4, 0);
    assert.equal(r.bytes, 2 ** 40);
  });

  it("holds data that arrives before its template and decodes it when the template comes", () => {
    const { out, dec, st } = collect();
    const data = netflowV9(header(1, { sequence: 1 }), [
      dataSet(256, [v4("198.51.100.1", "203.0.113.5", 100, 1)]),
    ]);
    assert.equal(dec.decode(data, EXPORTER, 1000), false);
    assert.equal(out.length, 0);
    assert.equal(st().errors.noTemplate, 1);
    assert.equal(st().buffered, 1);
    const tpl = netflowV9(header(1, { sequence: 2 }), [v9TemplateFlowset([{ id: 256, fields: V4 }])]);
    assert.equal(dec.decode(tpl, EXPORTER, 2000), true);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.bytes, 100);
    assert.equal(st().replayed, 1);
  });

  it("decodes a data flowset that precedes its template in the same packet", () => {
    const { out, dec, st } = collect();
    const pkt = netflowV9(header(2), [
      dataSet(256, [v4("198.51.100.1", "203.0.113.5", 100, 1)]),
      v9TemplateFlowset([{ id: 256, fields: V4 }]),
    ]);
    dec.decode(pkt, EXPORTER, 0);
    assert.equal(out.length, 1);
    assert.equal(st().errors.noTemplate, 1);
    assert.equal(st().replayed, 1);
  });

  it("drops (and counts) data without a template when holding is off or too old", () => {
    const off = collect({ pendingSets: 0 });
    const data = netflowV9(header(1), [dataSet(256, [v4("198.51.100.1", "203.0.113.5", 100, 1)])]);
    off.dec.decode(data, EXPORTER, 0);
    off.dec.decode(netflowV9(header(1), [v9TemplateFlowset([{ id: 256, fields: V4 }])]), EXPORTER, 0);
    assert.equal(off.out.length, 0);
    assert.equal(off.st().errors.noTemplate, 1);
    const late = collect({ pendingMaxAgeMs: 5_000 });
    late.dec.decode(data, EXPORTER, 0);
    late.dec.decode(netflowV9(header(1), [v9TemplateFlowset([{ id: 256, fields: V4 }])]), EXPORTER, 60_000);
    assert.equal(late.out.length, 0);
  });

  it("withdraws a template (field count 0) and follows a refreshed layout", () => {
    const { out, dec, st } = collect();
    dec.decode(netflowV9(header(1), [v9TemplateFlowset([{ id: 256, fields: V4 }])]), EXPORTER, 0);
    dec.decode(netflowV9(header(1), [v9TemplateFlowset([{ id: 256, fields: [] }])]), EXPORTER, 0);
    assert.equal(st().withdrawals, 1);
    const data = netflowV9(header(1), [dataSet(256, [v4("198.51.100.1", "203.0.113.5", 100, 1)])]);
    assert.equal(dec.decode(data, EXPORTER, 0), false);
    assert.equal(st().errors.noTemplate, 1);
    // Redefined with another layout: protocol and ports only.
    const short: FieldSpec[] = [
      [4, 1],
      [7, 2],
      [11, 2],
    ];
    const rec = dataRecord([
      [1, 17],
      [2, 53],
      [2, 1053],
    ]);
    dec.decode(
      netflowV9(header(2), [v9TemplateFlowset([{ id: 256, fields: short }]), dataSet(256, [rec])]),
      EXPORTER,
      0,
    );
    const last = out.at(-1)!;
    assert.deepEqual([last.protocol, last.srcPort, last.dstPort, last.ipVersion], [17, 53, 1053, 0]);
  });

  it("forgets a template that is not refreshed within its lifetime", () => {
    const { out, dec, st } = collect({ templateLifetimeMs: 60_000 });
    dec.decode(netflowV9(header(1), [v9TemplateFlowset([{ id: 256, fields: V4 }])]), EXPORTER, 0);
    const data = netflowV9(header(1), [dataSet(256, [v4("198.51.100.1", "203.0.113.5", 100, 1)])]);
    assert.equal(dec.decode(data, EXPORTER, 30_000), true);
    assert.equal(dec.decode(data, EXPORTER, 120_000), false);
    assert.equal(out.length, 1);
    assert.equal(st().errors.noTemplate, 1);
  });

  it("clears an exporter's templates when it restarts (uptime backwards or sequence reset)", () => {
    const { dec, st } = collect();
    const tpl = (o: { uptime: number; sequence: number }) =>
      netflowV9(header(1, o), [v9TemplateFlowset([{ id: 256, fields: V4 }])]);
    const data = (o: { uptime: number; sequence: number }) =>
      netflowV9(header(1, o), [dataSet(256, [v4("198.51.100.1", "203.0.113.5", 100, 1)])]);
    dec.decode(tpl({ uptime: 5_000_000, sequence: 5000 }), EXPORTER, 0);
    assert.equal(dec.decode(data({ uptime: 5_001_000, sequence: 5001 }), EXPORTER, 0), true);
    // Reordering: a little back in uptime and sequence is not a restart.
    assert.equal(dec.decode(data({ uptime: 5_000_500, sequence: 4999 }), EXPORTER, 0), true);
    // Rebooted: uptime starts again.
    assert.equal(dec.decode(data({ uptime: 20_000, sequence: 1 }), EXPORTER, 0), false);
    assert.equal(st().restarts, 1);
    dec.decode(tpl({ uptime: 21_000, sequence: 2 }), EXPORTER, 0);
    dec.decode(data({ uptime: 22_000, sequence: 9000 }), EXPORTER, 0);
    // Export process restarted, system uptime going on: the sequence falls back.
    assert.equal(dec.decode(data({ uptime: 23_000, sequence: 0 }), EXPORTER, 0), false);
    assert.equal(st().restarts, 2);
    // The 32-bit uptime wrapping is not a restart.
    dec.decode(tpl({ uptime: 0xffffffff - 1000, sequence: 10 }), EXPORTER, 0);
    assert.equal(dec.decode(data({ uptime: 500, sequence: 11 }), EXPORTER, 0), true);
    assert.equal(st().restarts, 2);
  });

  it("keeps templates apart per source id and per exporter", () => {
    const { out, dec } = collect();
    dec.decode(
      netflowV9(header(1, { sourceId: 1 }), [v9TemplateFlowset([{ id: 256, fields: V4 }])]),
      EXPORTER,
      0,
    );
    const data = (sourceId: number) =>
      netflowV9(header(1, { sourceId }), [dataSet(256, [v4("198.51.100.1", "203.0.113.5", 100, 1)])]);
    assert.equal(dec.decode(data(2), EXPORTER, 0), false);
    assert.equal(dec.decode(data(1), "192.0.2.10", 0), false);
    assert.equal(dec.decode(data(1), EXPORTER, 0), true);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.domain, 1);
  });

  describe("sampling", () => {
    const samplingOptions = v9OptionsTemplateFlowset([
      {
        id: 257,
        scope: [[1, 4]],
        fields: [
          [34, 4],
          [35, 1],
        ],
      },
    ]);
    const samplerOptions = v9OptionsTemplateFlowset([
      {
        id: 258,
        scope: [[1, 4]],
        fields: [
          [48, 1],
          [49, 1],
          [50, 4],
        ],
      },
    ]);

    it("applies SAMPLING_INTERVAL (34) announced in options data", () => {
      const { out, dec } = collect();
      const opts = dataSet(257, [
        dataRecord([
          [4, 0],
          [4, 1000],
          [1, 2],
        ]),
      ]);
      const pkt = netflowV9(header(5), [
        v9TemplateFlowset([{ id: 256, fields: V4 }]),
        samplingOptions,
        opts,
        dataSet(256, [v4("198.51.100.1", "203.0.113.5", 1500, 2), v4("198.51.100.1", "203.0.113.5", 64, 1)]),
      ]);
      assert.equal(dec.decode(pkt, EXPORTER, 0), true);
      assert.deepEqual(
        out.map((r) => [r.packets, r.bytes, r.rawPackets, r.rawBytes, r.samplingRate]),
        [
          [2000, 1_500_000, 2, 1500, 1000],
          [1000, 64_000, 1, 64, 1000],
        ],
      );
    });

    it("maps FLOW_SAMPLER_ID (48) to FLOW_SAMPLER_RANDOM_INTERVAL (50) from options data", () => {
      const { out, dec } = collect();
      const opts = dataSet(258, [
        dataRecord([
          [4, 0],
          [1, 1],
          [1, 2],
          [4, 100],
        ]),
        dataRecord([
          [4, 0],
          [1, 2],
          [1, 2],
          [4, 4000],
        ]),
      ]);
      const rec = (sampler: number) =>
        Buffer.concat([v4("198.51.100.1", "203.0.113.5", 500, 5), dataRecord([[1, sampler]])]);
      const pkt = netflowV9(header(7), [
        v9TemplateFlowset([{ id: 256, fields: V4_SAMPLER }]),
        samplerOptions,
        opts,
        dataSet(256, [rec(1), rec(2), rec(3)]),
      ]);
      assert.equal(dec.decode(pkt, EXPORTER, 0), true);
      assert.deepEqual(
        out.map((r) => [r.samplingRate, r.packets]),
        [
          [100, 500],
          [4000, 20_000],
          [1, 5],
        ],
      );
    });

    it("uses the only announced sampler for records that do not name one", () => {
      const { out, dec } = collect();
      const opts = dataSet(258, [
        dataRecord([
          [4, 0],
          [1, 5],
          [1, 2],
          [4, 250],
        ]),
      ]);
      const pkt = netflowV9(header(4), [
        v9TemplateFlowset([{ id: 256, fields: V4 }]),
        samplerOptions,
        opts,
        dataSet(256, [v4("198.51.100.1", "203.0.113.5", 500, 5)]),
      ]);
      assert.equal(dec.decode(pkt, EXPORTER, 0), true);
      assert.equal(out[0]!.samplingRate, 250);
    });

    it("lets the caller's per-exporter override win", () => {
      const overrides = new Map([[EXPORTER, 10]]);
      const { out, dec } = collect({ samplingOverrides: overrides });
      const opts = dataSet(257, [
        dataRecord([
          [4, 0],
          [4, 1000],
          [1, 2],
        ]),
      ]);
      const pkt = netflowV9(header(4), [
        v9TemplateFlowset([{ id: 256, fields: V4 }]),
        samplingOptions,
        opts,
        dataSet(256, [v4("198.51.100.1", "203.0.113.5", 1500, 2)]),
      ]);
      dec.decode(pkt, EXPORTER, 0);
      overrides.delete(EXPORTER);
      dec.decode(
        netflowV9(header(1), [dataSet(256, [v4("198.51.100.1", "203.0.113.5", 1500, 2)])]),
        EXPORTER,
        0,
      );
      assert.deepEqual(
        out.map((r) => r.samplingRate),
        [10, 1000],
      );
    });
  });

  it("counts and drops truncated and malformed packets", () => {
    const { out, dec, st } = collect();
    const pkt = netflowV9(header(2), [
      v9TemplateFlowset([{ id: 256, fields: V4 }]),
      dataSet(256, [v4("198.51.100.1", "203.0.113.5", 100, 1)]),
    ]);
    assert.equal(dec.decode(pkt.subarray(0, pkt.length - 3), EXPORTER, 0), false);
    assert.equal(dec.decode(pkt.subarray(0, 12), EXPORTER, 0), false);
    const zeroLength = Buffer.from(pkt);
    zeroLength.writeUInt16BE(2, 22);
    assert.equal(dec.decode(zeroLength, EXPORTER, 0), false);
    const badTemplateId = netflowV9(header(1), [v9TemplateFlowset([{ id: 12, fields: V4 }])]);
    assert.equal(dec.decode(badTemplateId, EXPORTER, 0), false);
    assert.equal(out.length, 0);
    assert.equal(st().errors.truncated, 2);
    assert.equal(st().errors.badSet, 1);
    assert.equal(st().errors.badTemplate, 1);
    // Cut exactly between flowsets: the header's count gives it away.
    const cut = pkt.subarray(0, 20 + v9TemplateFlowset([{ id: 256, fields: V4 }]).length);
    assert.equal(dec.decode(cut, EXPORTER, 0), false);
    assert.equal(st().errors.countMismatch, 1);
  });

  it("decodes softflowd's exports as nfdump does, applying its options-data sampling", () => {
    const { out, dec, stats } = collect();
    for (const f of ["softflowd-netflow-v9-0.bin", "softflowd-netflow-v9-1.bin"]) {
      assert.equal(dec.decode(readFileSync(fixture("flows", f)), "127.0.0.1", 0), true, f);
    }
    assert.equal(out.length, 33);
    assert.equal(
      out.reduce((n, r) => n + r.packets, 0),
      52,
    );
    assert.equal(
      out.reduce((n, r) => n + r.bytes, 0),
      18512,
    );
    const v6 = out.filter((r) => r.ipVersion === 6);
    assert.equal(v6.length, 3);
    assert.ok(v6.some((r) => r.src6 === "2001:db8::20" && r.dst6 === "2001:db8:1::5" && r.protocol === 17));

    const sampled = collect();
    const pkt = readFileSync(fixture("flows", "softflowd-netflow-v9-sampled-0.bin"));
    assert.equal(sampled.dec.decode(pkt, "127.0.0.2", 0), true);
    assert.equal(sampled.out.length, 18);
    assert.ok(sampled.out.every((r) => r.samplingRate === 2));
    assert.equal(
      sampled.out.reduce((n, r) => n + r.rawPackets, 0),
      26,
    );
    assert.equal(
      sampled.out.reduce((n, r) => n + r.bytes, 0),
      16544,
    );
    assert.equal(stats.errorCount() + sampled.stats.errorCount(), 0);
  });

  describe("fuzzing", () => {
    const valid = netflowV9(header(5), [
      v9TemplateFlowset([{ id: 256, fields: V4_SAMPLER }]),
      v9OptionsTemplateFlowset([
        {
          id: 258,
          scope: [[1, 4]],
          fields: [
            [48, 1],
            [50, 4],
          ],
        },
      ]),
      dataSet(258, [
        dataRecord([
          [4, 0],
          [1, 1],
          [4, 100],
        ]),
      ]),
      dataSet(256, [
        Buffer.concat([v4("198.51.100.1", "203.0.113.5", 500, 5), dataRecord([[1, 1]])]),
        Buffer.concat([v4("198.51.100.2", "203.0.113.5", 500, 5), dataRecord([[1, 1]])]),
      ]),
    ]);

    it("accepts the fuzzing seed packet", () => {
      const { out, dec } = collect();
      assert.equal(dec.decode(valid, EXPORTER, 0), true);
      assert.equal(out.length, 2);
    });

    it("never throws or reads past the end on random bytes, and counts every failure", () => {
      const { stats, dec } = collect();
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, v9) => {
          if (v9 && bytes.length >= 2) bytes.set([0, 9]);
          const before = stats.errorCount();
          const ok = dec.decode(strictBytes(bytes), "fuzz", 0);
          return ok === (stats.errorCount() === before);
        }),
        { numRuns: 3000 },
      );
      assert.equal(stats.get("fuzz")!.errors.internal, 0);
    });

    it("refuses and counts every truncation of a valid packet", () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: valid.length - 1 }), (n) => {
          const { stats, dec } = collect();
          return !dec.decode(strictBytes(valid.subarray(0, n)), "cut", 0) && stats.errorCount() >= 1;
        }),
        { numRuns: 500 },
      );
    });

    it("survives mutations of a valid packet with templates cached", () => {
      const { stats, dec } = collect();
      dec.decode(valid, "mut", 0);
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
          (patches) => {
            const before = stats.errorCount();
            const ok = dec.decode(strictBytes(mutate(valid, patches)), "mut", 0);
            return ok === (stats.errorCount() === before);
          },
        ),
        { numRuns: 3000 },
      );
      assert.equal(stats.get("mut")!.errors.internal, 0);
    });
  });
});
