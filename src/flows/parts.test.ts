import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ipv4Number } from "../core/flow-records.js";
import { RateTable } from "./counters.js";
import { IN_BASE, METRICS, Metric, Proto } from "./metrics.js";
import { type Mitigation, mitigationIdOf } from "./mitigation.js";
import { DEFAULT_GROUP_INDEX, NOT_PROTECTED, ProtectedSpace } from "./networks.js";
import { defaultFlowGuardSettings, flowGuardSettingsSchema } from "./settings.js";
import { TopK } from "./top-k.js";

describe("flow guard settings", () => {
  it("ship defaults that alert only", () => {
    const s = defaultFlowGuardSettings();
    assert.equal(s.defaultGroup.mitigation.type, "none");
    assert.equal(s.mitigation.dryRun, false);
    assert.deepEqual(s.mitigation.bgp.blackholeCommunities, ["65535:666"]);
    assert.equal(s.windowSeconds, 5);
    assert.equal(s.baselines.enabled, true);
  });

  it("refuse unknown keys and malformed prefixes, naming them", () => {
    const bad = flowGuardSettingsSchema.safeParse({ networks: ["192.0.2.0/33"], windowSecs: 3 });
    assert.equal(bad.success, false);
    const text = JSON.stringify(bad.error?.issues);
    assert.match(text, /windowSecs/);
    assert.match(text, /CIDR/);
    const group = flowGuardSettingsSchema.safeParse({
      hostGroups: [
        { name: "x", prefixes: ["10.0.0.0/8"], mitigation: { type: "flowspec", action: "police" } },
      ],
    });
    assert.equal(group.success, false);
  });
});

describe("ProtectedSpace", () => {
  const space = ProtectedSpace.parse(
    ["192.0.2.0/24", "198.51.100.0/22", "2001:db8::/32"],
    [["192.0.2.128/25"], ["198.51.101.0/24"]],
    24,
    64,
  );

  it("answers membership and the most specific group", () => {
    assert.equal(space.groupV4(ipv4Number("192.0.2.5")), DEFAULT_GROUP_INDEX);
    assert.equal(space.groupV4(ipv4Number("192.0.2.200")), 0);
    assert.equal(space.groupV4(ipv4Number("198.51.101.9")), 1);
    assert.equal(space.groupV4(ipv4Number("198.51.102.9")), DEFAULT_GROUP_INDEX);
    assert.equal(space.groupV4(ipv4Number("203.0.113.1")), NOT_PROTECTED);
    assert.equal(space.groupV4(ipv4Number("192.0.3.0")), NOT_PROTECTED);
  });

  it("aggregates per /24, or per group prefix when that is longer", () => {
    assert.deepEqual(space.aggregateV4Of(ipv4Number("198.51.102.77")), {
      key: ipv4Number("198.51.102.0"),
      bits: 24,
    });
    assert.deepEqual(space.aggregateV4Of(ipv4Number("192.0.2.200")), {
      key: ipv4Number("192.0.2.128"),
      bits: 25,
    });
    assert.deepEqual(space.lookupV6("2001:db8:0:1::5"), {
      group: DEFAULT_GROUP_INDEX,
      aggregate: "2001:db8:0:1::/64",
      value: 0x20010db8000000010000000000000005n,
    });
    assert.equal(space.lookupV6("2001:db9::1"), undefined);
  });
});

describe("TopK", () => {
  it("keeps a heavy hitter among many light keys, with a share it cannot overstate", () => {
    const t = new TopK(4, 2);
    for (let i = 0; i < 10_000; i++) {
      t.add(1, i % 2 === 0 ? 123 : 1000 + i, 1);
    }
    const top = t.top(1);
    assert.equal(top[0]?.key, 123);
    assert.ok(top[0]!.share <= 0.5 && top[0]!.share > 0.3, String(top[0]!.share));
    assert.deepEqual(t.top(0), []);
    t.addText(0, "2001:db8::1", 5);
    t.addText(0, "2001:db8::1", 5);
    assert.deepEqual(t.top(0), [{ key: -1, text: "2001:db8::1", share: 1 }]);
  });
});

describe("RateTable", () => {
  it("averages point volumes over the window", () => {
    const t = new RateTable({
      capacity: 4,
      windowSeconds: 5,
      horizonSeconds: 64,
      spread: true,
      topPorts: 4,
      topSources: 4,
    });
    t.advance(100, 4);
    const out = new Float64Array(METRICS);
    for (let s = 101; s <= 110; s++) {
      t.prepare(0);
      t.add(2, IN_BASE, Proto.udp, 100, 10_000, false, false, t);
      t.advance(s, 4);
    }
    t.rates(2, out);
    assert.equal(out[Metric.packets], 100);
    assert.equal(out[Metric.udpBytes], 10_000);
    for (let s = 111; s <= 116; s++) t.advance(s, 4);
    assert.equal(t.rates(2, out)[Metric.packets], 0);
    assert.equal(t.quiet(2), true);
  });

  it("ends a spread flow's rate after its duration", () => {
    const t = new RateTable({
      capacity: 1,
      windowSeconds: 1,
      horizonSeconds: 64,
      spread: true,
      topPorts: 2,
      topSources: 2,
    });
    t.advance(1000, 1);
    t.prepare(30);
    t.add(0, IN_BASE, Proto.tcp, 3000, 3e6, false, false, t);
    const out = new Float64Array(METRICS);
    const seen: number[] = [];
    for (let s = 1001; s <= 1040; s++) {
      t.advance(s, 1);
      seen.push(t.rates(0, out)[Metric.packets] as number);
    }
    assert.ok(seen.slice(0, 25).every((v) => Math.abs(v - 100) < 1e-3));
    assert.ok(seen.slice(35).every((v) => v === 0));
  });
});

describe("mitigation ids", () => {
  it("depend on what the mitigation does, not on when or why", () => {
    const base: Mitigation = {
      type: "blackhole",
      id: "",
      attackId: "a",
      group: "g",
      createdAt: 1,
      expiresAt: 2,
      dryRun: false,
      reason: "x",
      prefix: "192.0.2.1/32",
      nextHop: "192.0.2.254",
      communities: ["65535:666", "65000:1"],
    };
    const other: Mitigation = {
      ...base,
      attackId: "b",
      createdAt: 5,
      reason: "y",
      communities: ["65000:1", "65535:666"],
    };
    assert.equal(mitigationIdOf(base), mitigationIdOf(other));
    assert.notEqual(mitigationIdOf(base), mitigationIdOf({ ...base, prefix: "192.0.2.2/32" }));
  });
});

describe("ProtectedSpace ties", () => {
  it("gives a group whose prefix equals a listed network that network's hosts", () => {
    const tie = ProtectedSpace.parse(["192.0.2.0/24"], [["192.0.2.0/24"]], 24, 64);
    assert.equal(tie.groupV4(ipv4Number("192.0.2.5")), 0);
  });
});
