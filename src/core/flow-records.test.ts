import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  createFlowRecord,
  DecodeStats,
  flowDstText,
  ipv4Number,
  ipv4Text,
  OTHER_EXPORTERS,
  resetFlowRecord,
} from "./flow-records.js";

describe("flow records", () => {
  it("converts IPv4 between text and unsigned numbers", () => {
    assert.equal(ipv4Number("203.0.113.255"), 0xcb0071ff);
    assert.equal(ipv4Text(0xcb0071ff), "203.0.113.255");
    assert.equal(ipv4Text(ipv4Number("0.0.0.0")), "0.0.0.0");
    assert.ok(Number.isNaN(ipv4Number("1.2.3")));
    assert.ok(Number.isNaN(ipv4Number("1.2.3.256")));
  });

  it("renders the destination of either family", () => {
    const r = createFlowRecord("ipfix");
    r.ipVersion = 4;
    r.dst4 = ipv4Number("192.0.2.1");
    assert.equal(flowDstText(r), "192.0.2.1");
    resetFlowRecord(r);
    r.ipVersion = 6;
    r.dst6 = "2001:db8::1";
    assert.equal(flowDstText(r), "2001:db8::1");
  });

  it("bounds the per-exporter statistics table", () => {
    const stats = new DecodeStats(2);
    stats.of("192.0.2.1").packets++;
    stats.of("192.0.2.2").packets++;
    stats.of("192.0.2.3").packets++;
    stats.of("192.0.2.4").errors.truncated++;
    assert.equal(stats.get("192.0.2.3"), undefined);
    assert.equal(stats.get(OTHER_EXPORTERS)!.packets, 1);
    assert.equal(stats.errorCount(), 1);
    assert.equal(stats.errorCount("192.0.2.1"), 0);
  });
});
