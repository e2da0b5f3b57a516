import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  dataRecord,
  dataSet,
  ETH_IPV4,
  ethernet,
  ipfixMessage,
  ipfixTemplateSet,
  ipv4Packet,
  netflowV5,
  sflowCounterSample,
  sflowDatagram,
  sflowFlowSample,
  sflowGenericCounters,
  sflowRawHeader,
  tcpSegment,
} from "../../../test/support/flow-packets.js";
import { fixture } from "../../../test/support/paths.js";
import type { FlowSource, InterfaceCounters } from "../../core/flow-records.js";
import { startFlowCollector } from "./flow-collector.js";

async function send(port: number, datagrams: Buffer[]): Promise<void> {
  const sock = createSocket("udp4");
  try {
    for (const d of datagrams) {
      await new Promise<void>((resolve, reject) =>
        sock.send(d, port, "127.0.0.1", (err) => (err ? reject(err) : resolve())),
      );
    }
  } finally {
    sock.close();
  }
}

/** Polls until the condition holds; fails after a bounded wait. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

describe("flow collector", () => {
  it("receives NetFlow, IPFIX and sFlow on loopback and counts per exporter", async () => {
    const seen = new Map<FlowSource, number>();
    const counters: InterfaceCounters[] = [];
    const collector = await startFlowCollector({
      netflowPort: 0,
      ipfixPort: 0,
      sflowPort: 0,
      onRecord: (r) => seen.set(r.source, (seen.get(r.source) ?? 0) + 1),
      onCounters: (c) => counters.push({ ...c }),
      now: () => 1_700_000_000_000,
    });
    try {
      const { netflow, ipfix, sflow } = collector.ports;
      assert.ok(netflow && ipfix && sflow);
      const v5 = netflowV5({ uptime: 1000, unixSecs: 1_700_000_000 }, [
        { src: "192.0.2.1", dst: "203.0.113.1", packets: 1, bytes: 60, first: 0, last: 0, protocol: 6 },
      ]);
      const ipfixMsg = ipfixMessage({ exportTime: 1_700_000_000 }, [
        ipfixTemplateSet([{ id: 256, fields: [{ id: 12, len: 4 }] }]),
        dataSet(256, [dataRecord([[4, "203.0.113.2"]])]),
      ]);
      const v9 = readFileSync(fixture("flows", "softflowd-netflow-v9-0.bin"));
      const frame = ethernet(ETH_IPV4, ipv4Packet("192.0.2.1", "203.0.113.3", 6, tcpSegment(1, 2, 2)));
      const sf = sflowDatagram({ agent: "192.0.2.250" }, [
        sflowFlowSample({ rate: 10, records: [sflowRawHeader(frame)] }),
        sflowCounterSample({ records: [sflowGenericCounters({ ifIndex: 2, inOctets: 10, outOctets: 20 })] }),
      ]);
      await send(netflow, [v5, v9, Buffer.from("junk")]);
      await send(ipfix, [ipfixMsg]);
      await send(sflow, [sf]);
      await until(
        () =>
          seen.get("netflow5") === 1 &&
          seen.get("netflow9") === 24 &&
          seen.get("ipfix") === 1 &&
          seen.get("sflow5") === 1,
        "records",
      );
      await until(() => counters.length === 1 && collector.stats.get("127.0.0.1")?.packets === 5, "counters");
      const st = collector.stats.get("127.0.0.1")!;
      assert.equal(st.records, 27);
      assert.equal(st.errors.badVersion, 1);
      assert.equal(counters[0]!.exporter, "192.0.2.250");
    } finally {
      await collector.close();
    }
    await collector.close();
  });

  it("drops datagrams from sources that are not listed exporters", async () => {
    let records = 0;
    const c = await startFlowCollector({
      netflowPort: false,
      ipfixPort: false,
      sflowPort: 0,
      exporters: new Set(["192.0.2.1"]),
      onRecord: () => records++,
    });
    try {
      const frame = ethernet(ETH_IPV4, ipv4Packet("192.0.2.1", "203.0.113.3", 6, tcpSegment(1, 2, 2)));
      await send(c.ports.sflow!, [
        sflowDatagram({ agent: "192.0.2.250" }, [
          sflowFlowSample({ rate: 1, records: [sflowRawHeader(frame)] }),
        ]),
      ]);
      await until(() => c.refused() === 1, "refusal");
      assert.equal(records, 0);
      assert.equal(c.stats.get("127.0.0.1"), undefined);
    } finally {
      await c.close();
    }
  });

  it("binds only the protocols asked for, and reports a port in use", async () => {
    const a = await startFlowCollector({
      netflowPort: 0,
      ipfixPort: false,
      sflowPort: false,
      onRecord: () => {},
    });
    try {
      assert.deepEqual(Object.keys(a.ports), ["netflow"]);
      await assert.rejects(
        startFlowCollector({ netflowPort: a.ports.netflow!, ipfixPort: 0, sflowPort: 0, onRecord: () => {} }),
        /EADDRINUSE/,
      );
    } finally {
      await a.close();
    }
  });
});
