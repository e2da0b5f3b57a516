import assert from "node:assert/strict";
import { isIP } from "node:net";
import { describe, it } from "node:test";
import fc from "fast-check";
import { canonicalIp, ipFromBytes, parseHostPort, parseTransport } from "./sip-address.js";

describe("canonical IP addresses", () => {
  it("writes IPv6 the RFC 5952 way", () => {
    const cases: [string, string][] = [
      ["2001:DB8:0:0::5", "2001:db8::5"],
      ["[2001:db8::5]", "2001:db8::5"],
      ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
      ["2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"],
      ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
      ["2001:db8:1:1:1:1:0:1", "2001:db8:1:1:1:1:0:1"],
      ["::", "::"],
      ["::1", "::1"],
      ["fe80::", "fe80::"],
      ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ];
    for (const [input, want] of cases)
      assert.deepEqual(canonicalIp(input), { ip: want, family: "ipv6" }, input);
  });

  it("reads IPv4-mapped IPv6 as the IPv4 host", () => {
    assert.deepEqual(canonicalIp("::ffff:203.0.113.5"), { ip: "203.0.113.5", family: "ipv4" });
    assert.deepEqual(canonicalIp("::FFFF:cb00:7105"), { ip: "203.0.113.5", family: "ipv4" });
  });

  it("refuses what is not an address", () => {
    for (const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "1::2::3",
      "2001:db8::g",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7::8",
      "host.example",
      "[::1",
      ":::",
    ]) {
      assert.equal(canonicalIp(bad), undefined, bad);
    }
  });

  it("agrees with node:net on what is an address, and is idempotent", () => {
    const v6 = fc
      .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
      .map((g) => g.map((x) => x.toString(16)).join(":"));
    fc.assert(
      fc.property(v6, (text) => {
        const c = canonicalIp(text);
        assert.ok(c);
        assert.ok(isIP(c.ip) !== 0);
        assert.deepEqual(canonicalIp(c.ip), c);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("0", "1", "f", ":", ".", "9"), maxLength: 20 }), (s) => {
        const c = canonicalIp(s);
        if (c) assert.ok(isIP(c.ip) !== 0, s);
      }),
      { numRuns: 2000 },
    );
  });

  it("formats packet bytes", () => {
    assert.deepEqual(ipFromBytes(new Uint8Array([203, 0, 113, 5])), { ip: "203.0.113.5", family: "ipv4" });
    const v6 = new Uint8Array(16);
    v6[15] = 1;
    assert.deepEqual(ipFromBytes(v6), { ip: "::1", family: "ipv6" });
    assert.equal(ipFromBytes(new Uint8Array(5)), undefined);
  });
});

describe("host and port", () => {
  it("reads the forms logs print", () => {
    assert.deepEqual(parseHostPort("203.0.113.5:5062"), { ip: "203.0.113.5", family: "ipv4", port: 5062 });
    assert.deepEqual(parseHostPort("203.0.113.5"), { ip: "203.0.113.5", family: "ipv4" });
    assert.deepEqual(parseHostPort("[2001:db8::5]:5060", "tls"), {
      ip: "2001:db8::5",
      family: "ipv6",
      port: 5060,
      transport: "tls",
    });
    assert.deepEqual(parseHostPort("2001:db8::5"), { ip: "2001:db8::5", family: "ipv6" });
    for (const bad of [
      "203.0.113.5:",
      "203.0.113.5:99999",
      "[2001:db8::5]x",
      "pbx.example:5060",
      "[2001:db8::5]:",
    ]) {
      assert.equal(parseHostPort(bad), undefined, bad);
    }
  });

  it("knows the transports", () => {
    assert.equal(parseTransport("WSS"), "wss");
    assert.equal(parseTransport("carrier-pigeon"), undefined);
  });
});
