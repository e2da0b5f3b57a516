import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  dataRecord,
  dataSet,
  type IpfixField,
  ipfixMessage,
  ipfixOptionsTemplateSet,
  ipfixTemplateSet,
  ipfixWithdrawal,
  mutate,
  set,
  strictBytes,
  varField,
} from "../../../../test/support/flow-packets.js";
import { fixture } from "../../../../test/support/paths.js";
import {
  copyFlowRecord,
  DecodeStats,
  type FlowRecord,
  Fragment,
  ipv4Text,
} from "../../../core/flow-records.js";
import type { TemplateStoreOptions } from "../flow-templates/template-store.js";
import { IpfixDecoder } from "./ipfix.js";

const EXPORTER = "192.0.2.20";
const SECS = 1_700_000_000;

function collect(o: TemplateStoreOptions & { samplingOverrides?: ReadonlyMap<string, number> } = {}) {
  const out: Readonly<FlowRecord>[] = [];
  const stats = new DecodeStats();
  const dec = new IpfixDecoder({ onRecord: (r) => out.push(copyFlowRecord(r)), stats, ...o });
  const st = () => stats.get(EXPORTER)!;
  return { out, stats, dec, st };
}

const msg = (sets: Buffer[], sequence = 0, domain = 7) =>
  ipfixMessage({ exportTime: SECS, sequence, domain }, sets);

/** Addresses, ports, protocol, counters, an enterprise field, two variable-length fields, times, flags. */
const RICH: IpfixField[] = [
  { id: 8, len: 4 },
  { id: 12, len: 4 },
  { id: 7, len: 2 },
  { id: 11, len: 2 },
  { id: 4, len: 1 },
  { id: 1, len: 8 },
  { id: 2, len: 4 },
  { id: 1, len: 4, enterprise: 9 },
  { id: 82, len: 65535 },
  { id: 100, len: 65535, enterprise: 29305 },
  { id: 152, len: 8 },
  { id: 153, len: 8 },
  { id: 197, len: 1 },
  { id: 6, len: 2 },
];
const rich = (o: { name?: Buffer; vendor?: Buffer; frag?: number } = {}) =>
  Buffer.concat([
    dataRecord([
      [4, "198.51.100.9"],
      [4, "203.0.113.77"],
      [2, 5060],
      [2, 5060],
      [1, 17],
      [8, 12_000],
      [4, 10],
      [4, 0xdeadbeef],
    ]),
    varField(o.name ?? Buffer.from("ge-0/0/1")),
    varField(o.vendor ?? Buffer.alloc(0)),
    dataRecord([
      [8, SECS * 1000 - 4000],
      [8, SECS * 1000 - 1000],
      [1, o.frag ?? 0],
      [2, 0x0110],
    ]),
  ]);

const V6: IpfixField[] = [
  { id: 27, len: 16 },
  { id: 28, len: 16 },
  { id: 4, len: 1 },
  { id: 1, len: 4 },
  { id: 2, len: 4 },
  { id: 150, len: 4 },
  { id: 151, len: 4 },
];

describe("IPFIX", () => {
  it("decodes variable-length and enterprise fields, times in ms and fragment flags", () => {
    const { out, dec, st } = collect();
    const long = Buffer.alloc(300, 0x41);
    const pkt = msg([
      ipfixTemplateSet([{ id: 300, fields: RICH }]),
      dataSet(300, [rich(), rich({ vendor: long, frag: 0x20 }), rich({ name: Buffer.alloc(0), frag: 0x40 })]),
    ]);
    assert.equal(dec.decode(pkt, EXPORTER, 0), true);
    assert.equal(out.length, 3);
    const r = out[0]!;
    assert.equal(r.source, "ipfix");
    assert.equal(r.domain, 7);
    assert.equal(ipv4Text(r.src4), "198.51.100.9");
    assert.equal(ipv4Text(r.dst4), "203.0.113.77");
    assert.deepEqual([r.protocol, r.srcPort, r.dstPort, r.tcpFlags], [17, 5060, 5060, 0x10]);
    assert.deepEqual([r.bytes, r.packets], [12_000, 10]);
    assert.deepEqual([r.start, r.end], [SECS * 1000 - 4000, SECS * 1000 - 1000]);
    assert.equal(r.fragment, Fragment.no);
    assert.equal(out[1]!.fragment, Fragment.yes, "MF set");
    assert.equal(out[1]!.bytes, 12_000, "after a 3-byte length prefix");
    assert.equal(out[2]!.fragment, Fragment.no, "DF only");
    assert.equal(st().records, 3);
  });

  it("decodes IPv6 flows with times in seconds", () => {
    const { out, dec } = collect();
    const rec = dataRecord([
      [16, "2001:db8:100::1"],
      [16, "::ffff:c000:201"],
      [1, 58],
      [4, 640],
      [4, 8],
      [4, SECS - 10],
      [4, SECS - 2],
    ]);
    dec.decode(msg([ipfixTemplateSet([{ id: 400, fields: V6 }]), dataSet(400, [rec])]), EXPORTER, 0);
    const r = out[0]!;
    assert.deepEqual(
      [r.ipVersion, r.src6, r.dst6, r.protocol],
      [6, "2001:db8:100::1", "::ffff:192.0.2.1", 58],
    );
    assert.deepEqual([r.start, r.end], [(SECS - 10) * 1000, (SECS - 2) * 1000]);
  });

  it("holds data sets that arrive before their template", () => {
    const { out, dec, st } = collect();
    assert.equal(dec.decode(msg([dataSet(300, [rich()])], 1), EXPORTER, 0), false);
    assert.equal(st().errors.noTemplate, 1);
    assert.equal(dec.decode(msg([ipfixTemplateSet([{ id: 300, fields: RICH }])], 2), EXPORTER, 500), true);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.bytes, 12_000);
    assert.equal(st().replayed, 1);
  });

  it("counts a variable-length field that runs past its set", () => {
    const { out, dec, st } = collect();
    // Long enough to be a record, not padding, but its first variable field claims 200 bytes.
    const bad = Buffer.concat([rich().subarray(0, 29), Buffer.from([200]), Buffer.alloc(30, 7)]);
    const pkt = msg([ipfixTemplateSet([{ id: 300, fields: RICH }]), dataSet(300, [rich(), bad], false)]);
    assert.equal(dec.decode(pkt, EXPORTER, 0), false);
    assert.equal(out.length, 1);
    assert.equal(st().errors.badRecord, 1);
  });

  it("withdraws one template, all templates, or all options templates", () => {
    const { dec, st } = collect();
    const small: IpfixField[] = [
      { id: 8, len: 4 },
      { id: 1, len: 4 },
    ];
    const data = (id: number) =>
      dataSet(id, [
        dataRecord([
          [4, "192.0.2.1"],
          [4, 1],
        ]),
      ]);
    const opts = ipfixOptionsTemplateSet([
      {
        id: 500,
        scopeCount: 1,
        fields: [
          { id: 149, len: 4 },
          { id: 34, len: 4 },
        ],
      },
    ]);
    dec.decode(
      msg([
        ipfixTemplateSet([
          { id: 256, fields: small },
          { id: 257, fields: small },
        ]),
        opts,
      ]),
      EXPORTER,
      0,
    );
    assert.equal(dec.decode(msg([data(256), data(257)]), EXPORTER, 0), true);
    dec.decode(msg([ipfixWithdrawal(2, [256])]), EXPORTER, 0);
    assert.equal(dec.decode(msg([data(256)]), EXPORTER, 0), false);
    assert.equal(dec.decode(msg([data(257)]), EXPORTER, 0), true);
    dec.decode(msg([ipfixWithdrawal(2, [2])]), EXPORTER, 0);
    assert.equal(dec.decode(msg([data(257)]), EXPORTER, 0), false);
    assert.deepEqual(dec.templates.describe(EXPORTER)[0]!.templates, [500]);
    dec.decode(msg([ipfixWithdrawal(3, [3])]), EXPORTER, 0);
    assert.deepEqual(dec.templates.describe(EXPORTER)[0]!.templates, []);
    assert.equal(st().withdrawals, 3);
    assert.equal(st().errors.noTemplate, 2);
  });

  describe("sampling from options data", () => {
    const small: IpfixField[] = [
      { id: 8, len: 4 },
      { id: 2, len: 4 },
      { id: 1, len: 4 },
    ];
    const flow = (packets = 2) =>
      dataRecord([
        [4, "192.0.2.1"],
        [4, packets],
        [4, 100 * packets],
      ]);

    it("samplingInterval (34) for the domain", () => {
      const { out, dec } = collect();
      const opts = ipfixOptionsTemplateSet([
        {
          id: 500,
          scopeCount: 1,
          fields: [
            { id: 149, len: 4 },
            { id: 34, len: 4 },
          ],
        },
      ]);
      dec.decode(
        msg([
          ipfixTemplateSet([{ id: 256, fields: small }]),
          opts,
          dataSet(500, [
            dataRecord([
              [4, 7],
              [4, 512],
            ]),
          ]),
          dataSet(256, [flow()]),
        ]),
        EXPORTER,
        0,
      );
      assert.deepEqual([out[0]!.samplingRate, out[0]!.packets, out[0]!.bytes], [512, 1024, 102_400]);
    });

    it("samplingPacketInterval/Space (305/306) keyed by selectorId (302)", () => {
      const { out, dec } = collect();
      const opts = ipfixOptionsTemplateSet([
        {
          id: 501,
          scopeCount: 1,
          fields: [
            { id: 302, len: 4 },
            { id: 305, len: 4 },
            { id: 306, len: 4 },
          ],
        },
      ]);
      const withSelector: IpfixField[] = [...small, { id: 302, len: 4 }];
      dec.decode(
        msg([
          ipfixTemplateSet([{ id: 256, fields: withSelector }]),
          opts,
          dataSet(501, [
            dataRecord([
              [4, 9],
              [4, 1],
              [4, 99],
            ]),
          ]),
          dataSet(256, [
            Buffer.concat([flow(), dataRecord([[4, 9]])]),
            Buffer.concat([flow(), dataRecord([[4, 8]])]),
          ]),
        ]),
        EXPORTER,
        0,
      );
      assert.deepEqual(
        out.map((r) => r.samplingRate),
        [100, 1],
      );
    });

    it("samplerRandomInterval (50) keyed by samplerId (48), and sampling fields inside a flow record", () => {
      const { out, dec } = collect();
      const opts = ipfixOptionsTemplateSet([
        {
          id: 502,
          scopeCount: 1,
          fields: [
            { id: 48, len: 2 },
            { id: 50, len: 4 },
          ],
        },
      ]);
      const withSampler: IpfixField[] = [...small, { id: 48, len: 2 }];
      const inline: IpfixField[] = [...small, { id: 34, len: 2 }];
      dec.decode(
        msg([
          ipfixTemplateSet([
            { id: 256, fields: withSampler },
            { id: 257, fields: inline },
          ]),
          opts,
          dataSet(502, [
            dataRecord([
              [2, 3],
              [4, 2048],
            ]),
          ]),
          dataSet(256, [Buffer.concat([flow(), dataRecord([[2, 3]])])]),
          dataSet(257, [Buffer.concat([flow(), dataRecord([[2, 50]])])]),
        ]),
        EXPORTER,
        0,
      );
      assert.deepEqual(
        out.map((r) => r.samplingRate),
        [2048, 50],
      );
    });
  });

  it("turns sysUpTime times into epoch ms with systemInitTimeMilliseconds from options data", () => {
    const { out, dec } = collect();
    const init = SECS * 1000 - 3_600_000;
    const opts = ipfixOptionsTemplateSet([
      {
        id: 510,
        scopeCount: 1,
        fields: [
          { id: 144, len: 4 },
          { id: 160, len: 8 },
        ],
      },
    ]);
    const tpl: IpfixField[] = [
      { id: 8, len: 4 },
      { id: 22, len: 4 },
      { id: 21, len: 4 },
    ];
    const flow = dataRecord([
      [4, "192.0.2.1"],
      [4, 1_000_000],
      [4, 1_500_000],
    ]);
    dec.decode(msg([ipfixTemplateSet([{ id: 256, fields: tpl }]), dataSet(256, [flow])]), EXPORTER, 0);
    dec.decode(
      msg([
        opts,
        dataSet(510, [
          dataRecord([
            [4, 1],
            [8, init],
          ]),
        ]),
        dataSet(256, [flow]),
      ]),
      EXPORTER,
      0,
    );
    assert.deepEqual(
      [out[0]!.start, out[0]!.end],
      [SECS * 1000, SECS * 1000],
      "no init time yet: export time",
    );
    assert.deepEqual([out[1]!.start, out[1]!.end], [init + 1_000_000, init + 1_500_000]);
  });

  it("clears the domain's templates when the sequence number resets", () => {
    const { dec, st } = collect();
    const tpl: IpfixField[] = [{ id: 8, len: 4 }];
    const data = (seq: number) => msg([dataSet(256, [dataRecord([[4, "192.0.2.1"]])])], seq);
    dec.decode(msg([ipfixTemplateSet([{ id: 256, fields: tpl }])], 5_000_000), EXPORTER, 0);
    assert.equal(dec.decode(data(5_000_000), EXPORTER, 0), true);
    assert.equal(dec.decode(data(4_999_990), EXPORTER, 0), true, "reordering");
    assert.equal(dec.decode(data(0), EXPORTER, 0), false);
    assert.equal(st().restarts, 1);
  });

  it("counts and drops truncated and malformed messages", () => {
    const { out, dec, st } = collect();
    const pkt = msg([ipfixTemplateSet([{ id: 300, fields: RICH }]), dataSet(300, [rich()])]);
    assert.equal(dec.decode(pkt.subarray(0, pkt.length - 1), EXPORTER, 0), false);
    assert.equal(dec.decode(pkt.subarray(0, 8), EXPORTER, 0), false);
    const badSetLen = Buffer.from(pkt);
    badSetLen.writeUInt16BE(0xfff0, 18);
    assert.equal(dec.decode(badSetLen, EXPORTER, 0), false);
    const badLength = Buffer.from(pkt);
    badLength.writeUInt16BE(10, 2);
    assert.equal(dec.decode(badLength, EXPORTER, 0), false);
    const noScope = msg([
      ipfixOptionsTemplateSet([
        {
          id: 600,
          scopeCount: 0,
          fields: [{ id: 34, len: 4 }],
        },
      ]),
    ]);
    assert.equal(dec.decode(noScope, EXPORTER, 0), false);
    const cutTemplate = msg([set(2, Buffer.from([1, 44, 0, 3, 0, 8, 0, 4]))]);
    assert.equal(dec.decode(cutTemplate, EXPORTER, 0), false);
    assert.equal(out.length, 0);
    assert.deepEqual(
      [st().errors.truncated, st().errors.badSet, st().errors.badHeader, st().errors.badTemplate],
      [2, 1, 1, 2],
    );
  });

  it("decodes softflowd's IPFIX export as nfdump does", () => {
    const { out, dec, stats } = collect();
    const pkts = ["softflowd-ipfix-0.bin", "softflowd-ipfix-1.bin"].map((f) =>
      readFileSync(fixture("flows", f)),
    );
    for (const p of pkts) assert.equal(dec.decode(p, "127.0.0.1", 0), true);
    assert.equal(out.length, 33);
    assert.equal(
      out.reduce((n, r) => n + r.packets, 0),
      52,
    );
    assert.equal(
      out.reduce((n, r) => n + r.bytes, 0),
      18512,
    );
    assert.ok(out.every((r) => r.samplingRate === 1));
    assert.equal(out.filter((r) => r.ipVersion === 6).length, 3);
    // Times come from the options data's systemInitTimeMilliseconds plus the flow's sysUpTime.
    const init = Number(
      pkts[0]!.readBigUInt64BE(pkts[0]!.indexOf(Buffer.from([0x01, 0x00, 0x00, 0x2a])) + 8),
    );
    const first = out[0]!;
    assert.ok(first.start > init && first.end - first.start === 500, `${first.start} ${init}`);
    assert.equal(stats.errorCount(), 0);
  });

  describe("fuzzing", () => {
    const valid = msg([
      ipfixTemplateSet([{ id: 300, fields: RICH }]),
      ipfixOptionsTemplateSet([
        {
          id: 502,
          scopeCount: 1,
          fields: [
            { id: 48, len: 2 },
            { id: 50, len: 4 },
          ],
        },
      ]),
      dataSet(502, [
        dataRecord([
          [2, 3],
          [4, 2048],
        ]),
      ]),
      dataSet(300, [rich(), rich({ vendor: Buffer.alloc(260, 1) })]),
    ]);

    it("accepts the fuzzing seed message", () => {
      const { out, dec } = collect();
      assert.equal(dec.decode(valid, EXPORTER, 0), true);
      assert.equal(out.length, 2);
    });

    it("never throws or reads past the end on random bytes, and counts every failure", () => {
      const { stats, dec } = collect();
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, ipfix) => {
          if (ipfix && bytes.length >= 4) bytes.set([0, 10, bytes.length >> 8, bytes.length & 0xff]);
          const before = stats.errorCount();
          const ok = dec.decode(strictBytes(bytes), "fuzz", 0);
          return ok === (stats.errorCount() === before);
        }),
        { numRuns: 3000 },
      );
      assert.equal(stats.get("fuzz")!.errors.internal, 0);
    });

    it("refuses and counts every truncation of a valid message", () => {
      const { stats, dec } = collect();
      fc.assert(
        fc.property(fc.integer({ min: 0, max: valid.length - 1 }), (n) => {
          const before = stats.errorCount();
          return (
            !dec.decode(strictBytes(valid.subarray(0, n)), "cut", 0) && stats.errorCount() === before + 1
          );
        }),
        { numRuns: 500 },
      );
    });

    it("survives mutations of a valid message with templates cached", () => {
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
