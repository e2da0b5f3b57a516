import assert from "node:assert/strict";
import { BlockList } from "node:net";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  type Cidr,
  CidrSet,
  contains,
  formatCidr,
  formatIp,
  type IpAddress,
  networkKey,
  parseCidr,
  parseIp,
  prefixOf,
} from "./cidr.js";

const v4 = fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((value): IpAddress => ({ family: "ipv4", value }));
const v6 = fc
  .bigInt({ min: 0n, max: (1n << 128n) - 1n })
  // IPv4-mapped values read back as IPv4 by design; keep them out of the IPv6 round trip.
  .filter((v) => v >> 32n !== 0xffffn)
  .map((value): IpAddress => ({ family: "ipv6", value }));
const anyIp = fc.oneof(v4, v6);
const anyPrefix = fc.tuple(anyIp, fc.integer({ min: 0, max: 128 })).map(([ip, bits]) => prefixOf(ip, bits));

function must<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!r.ok) assert.fail(String(r.error));
  return r.value;
}

describe("addresses", () => {
  it("reads and writes IPv4 and IPv6", () => {
    assert.deepEqual(must(parseIp("203.0.113.5")), { family: "ipv4", value: 0xcb007105 });
    assert.deepEqual(must(parseIp("::ffff:203.0.113.5")), { family: "ipv4", value: 0xcb007105 });
    assert.deepEqual(must(parseIp("[2001:db8::1]")), {
      family: "ipv6",
      value: (0x20010db8n << 96n) | 1n,
    });
    assert.equal(formatIp(must(parseIp("2001:DB8:0:0::5"))), "2001:db8::5");
    assert.equal(formatIp(must(parseIp("255.255.255.255"))), "255.255.255.255");
    for (const bad of ["", "1.2.3", "01.2.3.4", "1.2.3.4/24", "1::2::3", "203.0.113.5; flush ruleset"])
      assert.equal(parseIp(bad).ok, false, bad);
  });

  it("round-trips every address through text", () => {
    fc.assert(fc.property(anyIp, (ip) => assert.deepEqual(must(parseIp(formatIp(ip))), ip)));
  });
});

describe("prefixes", () => {
  it("reads prefixes, bare addresses and mapped IPv4 prefixes", () => {
    assert.equal(formatCidr(must(parseCidr("10.1.2.3/8"))), "10.0.0.0/8");
    assert.equal(formatCidr(must(parseCidr("192.0.2.7"))), "192.0.2.7/32");
    assert.equal(formatCidr(must(parseCidr("2001:db8:1:2::9/48"))), "2001:db8:1::/48");
    assert.equal(formatCidr(must(parseCidr("::ffff:198.51.100.0/120"))), "198.51.100.0/24");
    assert.equal(formatCidr(must(parseCidr("0.0.0.0/0"))), "0.0.0.0/0");
    assert.equal(formatCidr(must(parseCidr("::/0"))), "::/0");
  });

  it("refuses what is not a prefix, and host bits when asked to be strict", () => {
    for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/", "/8", "10.0.0.0/8/8", "10.0.0.0/-1", "x/8"])
      assert.equal(parseCidr(bad).ok, false, bad);
    const strict = parseCidr("10.0.0.5/8", { strict: true });
    assert.equal(strict.ok, false);
    if (!strict.ok) assert.match(strict.error, /10\.0\.0\.0\/8/);
  });

  it("contains what it should, checked against node:net BlockList", () => {
    fc.assert(
      fc.property(anyPrefix, anyIp, (prefix, ip) => {
        const list = new BlockList();
        const text = formatCidr(prefix);
        const [net = "", bits = "0"] = text.split("/");
        list.addSubnet(net, Number(bits), prefix.family);
        const addr = formatIp(ip);
        // BlockList lets IPv6 rules match IPv4 through mapping; here the families stay apart.
        const want = prefix.family === ip.family && list.check(addr, ip.family);
        assert.equal(contains(prefix, ip), want, `${text} ∋ ${addr}`);
      }),
    );
  });

  it("an address is in every prefix of itself, and prefixOf is idempotent", () => {
    fc.assert(
      fc.property(anyIp, fc.integer({ min: 0, max: 128 }), (ip, bits) => {
        const p = prefixOf(ip, bits);
        assert.ok(contains(p, ip));
        assert.deepEqual(must(parseCidr(formatCidr(p), { strict: true })), p);
      }),
    );
  });

  it("names the /24 and the /64 of an address", () => {
    assert.equal(networkKey("203.0.113.77", 24, 64), "203.0.113.0/24");
    assert.equal(networkKey("2001:db8:aa:bb:1:2:3:4", 24, 64), "2001:db8:aa:bb::/64");
    assert.equal(networkKey("not an address", 24, 64), undefined);
  });
});

describe("CidrSet", () => {
  it("answers like a linear scan of its prefixes", () => {
    const near = (prefixes: Cidr[]) =>
      fc.oneof(
        anyIp,
        fc
          .tuple(fc.constantFrom(...prefixes), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }))
          .map(([p, noise]): IpAddress => {
            if (p.family === "ipv4") {
              const host = Number(noise % BigInt(2 ** (32 - p.bits)));
              return { family: "ipv4", value: p.network + host };
            }
            return { family: "ipv6", value: p.network | (noise & ((1n << BigInt(128 - p.bits)) - 1n)) };
          }),
      );
    fc.assert(
      fc.property(
        fc
          .array(anyPrefix, { minLength: 1, maxLength: 20 })
          .chain((ps) => fc.tuple(fc.constant(ps), fc.array(near(ps), { minLength: 1, maxLength: 30 }))),
        ([prefixes, ips]) => {
          const set = new CidrSet(prefixes);
          for (const ip of ips)
            assert.equal(
              set.has(ip),
              prefixes.some((p) => contains(p, ip)),
            );
        },
      ),
    );
  });

  it("parses an allow-list, merges overlaps and reports the bad entry", () => {
    const set = must(CidrSet.parse(["192.0.2.0/25", "192.0.2.128/25", "192.0.2.10", "2001:db8::/32"]));
    assert.equal(set.size, 4);
    assert.ok(set.has("192.0.2.200"));
    assert.ok(set.has("::ffff:192.0.2.1"));
    assert.ok(set.has("2001:db8:ffff::1"));
    assert.ok(!set.has("192.0.3.0"));
    assert.ok(!set.has("2001:db9::"));
    assert.ok(!set.has("garbage"));
    assert.ok(!CidrSet.empty.has("127.0.0.1"));
    const bad = CidrSet.parse(["10.0.0.0/8", "10.0.0.0/99"]);
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.equal(bad.error.index, 1);
  });
});
