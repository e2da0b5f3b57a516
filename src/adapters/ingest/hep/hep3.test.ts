import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  buildHep3,
  hepChunk,
  hepPacket,
  readHexCapture,
  sipRequest,
  u8,
  u16,
} from "../../../../test/support/hep-packets.js";
import { fixture } from "../../../../test/support/paths.js";
import { decodeHep3 } from "./hep3.js";

const errorOf = (data: Uint8Array) => {
  const r = decodeHep3(data);
  return r.ok ? undefined : r.error;
};

describe("HEPv3 decoder", () => {
  it("decodes every chunk of a real Kamailio siptrace packet", () => {
    const [first] = readHexCapture(fixture("hep", "kamailio-sipvicious.hex"));
    const r = decodeHep3(first!);
    assert.ok(r.ok);
    const { payload, ...rest } = r.value;
    assert.deepEqual(rest, {
      compressed: false,
      skippedChunks: 0,
      ipFamily: 2,
      ipProtocol: 17,
      srcIp: { ip: "127.0.0.1", family: "ipv4" },
      dstIp: { ip: "127.0.0.1", family: "ipv4" },
      srcPort: 5060,
      dstPort: 5090,
      timeSec: 1795307767,
      timeUsec: 233609,
      protocolType: 1,
      captureId: 2001,
      authKey: "mamori-test",
    });
    assert.match(Buffer.from(payload!).toString(), /^OPTIONS sip:100@127\.0\.0\.1 SIP\/2\.0\r\n/);
  });

  it("decodes IPv6 address chunks from a real capture", () => {
    const [first] = readHexCapture(fixture("hep", "kamailio-ipv6.hex"));
    const r = decodeHep3(first!);
    assert.ok(r.ok);
    assert.equal(r.value.ipFamily, 10);
    assert.deepEqual(r.value.srcIp, { ip: "::1", family: "ipv6" });
    assert.deepEqual(r.value.dstIp, { ip: "::1", family: "ipv6" });
  });

  it("decodes built packets: IPv6, TCP, correlation id, node name, and skips unknown chunks", () => {
    const packet = buildHep3({
      srcIp: "2001:db8::5",
      dstIp: "2001:db8::10",
      srcPort: 40000,
      dstPort: 5061,
      ipProtocol: 6,
      correlationId: "corr-1",
      extra: [hepChunk(19, "pbx-tokyo"), hepChunk(200, "future"), hepChunk(7, u16(9), 0x0002)],
      payload: sipRequest(),
    });
    const r = decodeHep3(packet);
    assert.ok(r.ok);
    assert.deepEqual(r.value.srcIp, { ip: "2001:db8::5", family: "ipv6" });
    assert.equal(r.value.srcPort, 40000);
    assert.equal(r.value.ipProtocol, 6);
    assert.equal(r.value.correlationId, "corr-1");
    assert.equal(r.value.nodeName, "pbx-tokyo");
    // Unknown type 200, and a vendor-specific chunk that must not overwrite the source port.
    assert.equal(r.value.skippedChunks, 2);
    assert.equal(r.value.authKey, undefined);
  });

  it("accepts a 2-byte capture id from older agents", () => {
    const r = decodeHep3(hepPacket([hepChunk(12, u16(7)), hepChunk(15, "x")]));
    assert.ok(r.ok);
    assert.equal(r.value.captureId, 7);
  });

  it("rejects what is not HEPv3, with the reason", () => {
    assert.match(errorOf(Buffer.from("HEP")) ?? "", /shorter than the HEP header/);
    assert.match(errorOf(Buffer.from("REGISTER sip:x SIP/2.0")) ?? "", /no HEP3 magic/);
    assert.match(errorOf(Buffer.from([1, 16, 2, 17, 0, 0, 0, 0])) ?? "", /version 1 is not supported/);
  });

  it("rejects lengths that lie, and never loops on a zero-length chunk", () => {
    const good = buildHep3({ srcIp: "203.0.113.5", dstIp: "192.0.2.10", payload: sipRequest() });
    assert.match(errorOf(good.subarray(0, good.length - 1)) ?? "", /runs past the \d+ bytes received/);
    const short = Buffer.from(good);
    short.writeUInt16BE(4, 4);
    assert.match(errorOf(short) ?? "", /shorter than the header/);
    const zero = hepPacket([Buffer.from([0, 0, 0, 15, 0, 0])]);
    assert.match(errorOf(zero) ?? "", /length 0, below its own header/);
    const past = hepPacket([Buffer.from([0, 0, 0, 15, 0, 200, 1, 2])]);
    assert.match(errorOf(past) ?? "", /runs past the packet/);
    const cut = hepPacket([hepChunk(1, u8(2)), Buffer.from([0, 0, 0])]);
    assert.match(errorOf(cut) ?? "", /cut short/);
    assert.match(
      errorOf(hepPacket([hepChunk(3, Buffer.from([1, 2, 3]))])) ?? "",
      /chunk type 3 has 3 value bytes, expected 4/,
    );
    assert.match(errorOf(hepPacket([hepChunk(7, u8(1))])) ?? "", /chunk type 7 has 1 value bytes/);
  });

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const r = decodeHep3(bytes);
        return r.ok || r.error.length > 0;
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws on HEP3 packets with random chunk headers, and rejects every truncation of a good packet", () => {
    const chunk = fc.tuple(
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 25 }),
      fc.uint8Array({ maxLength: 20 }),
      fc.integer({ min: -8, max: 8 }),
    );
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 8 }), (chunks) => {
        const parts = chunks.map(([vendor, type, value, skew]) => {
          const c = hepChunk(type, value, vendor);
          c.writeUInt16BE(Math.max(0, Math.min(65535, c.length + skew)), 4);
          return c;
        });
        const r = decodeHep3(hepPacket(parts));
        return r.ok || r.error.length > 0;
      }),
      { numRuns: 2000 },
    );
    const good = buildHep3({ srcIp: "203.0.113.5", dstIp: "192.0.2.10", payload: sipRequest() });
    for (let n = 0; n < good.length; n++)
      assert.equal(decodeHep3(good.subarray(0, n)).ok, false, `length ${n}`);
    assert.equal(decodeHep3(good).ok, true);
  });
});
