import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { after, before, describe, it } from "node:test";
import { buildHep3, readHexCapture, sipRequest } from "../../../../test/support/hep-packets.js";
import { fixture } from "../../../../test/support/paths.js";
import type { SipEvent } from "../../../core/sip-events.js";
import { type HepListener, type HepRejection, startHepListener } from "./listener.js";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds, at most `ms`. */
async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await wait(10);
  }
}

describe("HEP UDP listener", () => {
  let client: Socket;
  before(async () => {
    client = createSocket("udp4");
    await new Promise<void>((r) => client.bind(0, "127.0.0.1", () => r()));
  });
  after(() => client.close());

  const send = (l: HepListener, data: Uint8Array) =>
    new Promise<void>((resolve, reject) =>
      client.send(data, l.address().port, "127.0.0.1", (e) => (e ? reject(e) : resolve())),
    );

  it("turns captured packets into events and counts malformed ones per source, without stopping", async () => {
    const events: SipEvent[] = [];
    const rejections: HepRejection[] = [];
    const l = await startHepListener({
      port: 0,
      authKey: "mamori-test",
      onEvent: (e) => events.push(e),
      onRejected: (r) => rejections.push(r),
    });
    try {
      assert.equal(l.address().address, "127.0.0.1");
      const capture = readHexCapture(fixture("hep", "kamailio-sipvicious.hex"));
      const good = capture[0]!;
      await send(l, good.subarray(0, 20));
      await send(l, Buffer.from("HEP3\u0000\u0008\u0000\u0000"));
      await send(l, Buffer.alloc(0));
      await send(
        l,
        buildHep3({ srcIp: "203.0.113.5", dstIp: "192.0.2.10", payload: sipRequest(), authKey: "wrong" }),
      );
      await send(l, buildHep3({ srcIp: "203.0.113.5", dstIp: "192.0.2.10", payload: sipRequest() }));
      await send(
        l,
        buildHep3({
          srcIp: "203.0.113.5",
          dstIp: "192.0.2.10",
          payload: "x",
          protocolType: 100,
          authKey: "mamori-test",
        }),
      );
      for (const p of capture) await send(l, p);
      await until(() => l.stats().packets === 6 + capture.length);
      const s = l.stats();
      assert.equal(s.events, capture.length);
      assert.equal(s.malformed, 5);
      assert.equal(s.skipped, 1);
      assert.equal(s.handlerErrors, 0);
      assert.deepEqual([...s.malformedBySource], [["127.0.0.1", 5]]);
      assert.equal(events.length, capture.length);
      assert.equal(events[0]?.type, "sip.request");
      assert.match(events[0]?.raw.source ?? "", /^hep:127\.0\.0\.1$/);
      assert.deepEqual(
        rejections.map((r) => r.reason.replace(/\d+/g, "N")),
        [
          "declared length N runs past the N bytes received",
          "chunk at offset N is cut short (N bytes left)",
          "packet of N bytes is shorter than the HEP header",
          "authentication key missing or wrong",
          "authentication key missing or wrong",
        ],
      );
    } finally {
      await l.close();
    }
  });

  it("survives handlers that throw", async () => {
    const l = await startHepListener({
      port: 0,
      onEvent: () => {
        throw new Error("handler bug");
      },
      onRejected: () => {
        throw new Error("handler bug");
      },
    });
    try {
      await send(l, buildHep3({ srcIp: "203.0.113.5", dstIp: "192.0.2.10", payload: sipRequest() }));
      await send(l, Buffer.from("nonsense"));
      await send(
        l,
        buildHep3({ srcIp: "203.0.113.5", dstIp: "192.0.2.10", payload: sipRequest({ method: "INVITE" }) }),
      );
      await until(() => l.stats().packets === 3);
      assert.deepEqual(
        { ...l.stats(), malformedBySource: undefined },
        {
          packets: 3,
          events: 2,
          skipped: 0,
          malformed: 1,
          handlerErrors: 3,
          socketErrors: 0,
          malformedBySource: undefined,
        },
      );
    } finally {
      await l.close();
      await l.close();
    }
  });

  it("keeps per-source counts bounded", async () => {
    const l = await startHepListener({ port: 0, maxTrackedSources: 1, onEvent: () => {} });
    const v6 = createSocket("udp6");
    try {
      await new Promise<void>((r) => v6.bind(0, "::1", () => r()));
      await send(l, Buffer.from("bad"));
      await until(() => l.stats().malformed === 1);
      assert.deepEqual([...l.stats().malformedBySource.keys()], ["127.0.0.1"]);
      await l.close();
      const l6 = await startHepListener({ host: "::1", port: 0, maxTrackedSources: 1, onEvent: () => {} });
      try {
        await new Promise<void>((resolve, reject) =>
          v6.send(Buffer.from("bad"), l6.address().port, "::1", (e) => (e ? reject(e) : resolve())),
        );
        await until(() => l6.stats().malformed === 1);
        assert.deepEqual([...l6.stats().malformedBySource.keys()], ["::1"]);
      } finally {
        await l6.close();
      }
    } finally {
      v6.close();
      await l.close();
    }
  });

  it("refuses to start on a port that is taken", async () => {
    const l = await startHepListener({ port: 0, onEvent: () => {} });
    try {
      await assert.rejects(startHepListener({ port: l.address().port, onEvent: () => {} }), /EADDRINUSE/);
    } finally {
      await l.close();
    }
  });
});
