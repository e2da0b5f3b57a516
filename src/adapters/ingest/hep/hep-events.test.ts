import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildHep3, readHexCapture, sipRequest } from "../../../../test/support/hep-packets.js";
import { fixture } from "../../../../test/support/paths.js";
import { hepToSipEvent } from "./hep-events.js";
import { decodeHep3, type HepPacket } from "./hep3.js";

const decode = (b: Uint8Array): HepPacket => {
  const r = decodeHep3(b);
  assert.ok(r.ok);
  return r.value;
};

describe("HEP packets as SIP events", () => {
  it("turns a real SIPVicious session captured by Kamailio into requests and responses", () => {
    const packets = readHexCapture(fixture("hep", "kamailio-sipvicious.hex"));
    const events = packets.map((p, i) => hepToSipEvent(decode(p), { source: "capture", line: i + 1 }));
    assert.deepEqual(events[6], {
      type: "event",
      event: {
        type: "sip.request",
        at: 1795307770472,
        service: "hep",
        source: { ip: "127.0.0.1", family: "ipv4", port: 5060, transport: "udp" },
        destination: { ip: "127.0.0.1", family: "ipv4", port: 5090, transport: "udp" },
        userAgent: "friendly-scanner",
        callId: "3460832240",
        fromUser: "100",
        fromTag: "3130303a313233340134303333333534393939",
        toUser: "100",
        cseq: 2,
        captureId: 2001,
        raw: { source: "capture", line: 7 },
        account: "100",
        method: "REGISTER",
        requestUri: "sip:127.0.0.1",
        hasAuthorization: true,
        authUser: "100",
        contact: "sip:123@1.1.1.1",
      },
    });
    assert.deepEqual(
      events.map((e) =>
        e.type !== "event"
          ? e.type
          : e.event.type === "sip.request"
            ? `${e.event.method} ${e.event.userAgent}`
            : e.event.type === "sip.response"
              ? `${e.event.status} ${e.event.method}`
              : e.event.type,
      ),
      [
        "OPTIONS friendly-scanner",
        "200 OPTIONS",
        "REGISTER friendly-scanner",
        "401 REGISTER",
        "REGISTER friendly-scanner",
        "401 REGISTER",
        "REGISTER friendly-scanner",
        "401 REGISTER",
        "REGISTER friendly-scanner",
        "401 REGISTER",
      ],
    );
    const answer = events[7];
    assert.ok(answer?.type === "event" && answer.event.type === "sip.response");
    assert.equal(answer.event.server, "kamailio (5.6.3 (x86_64/linux))");
    assert.equal(answer.event.reasonPhrase, "Unauthorized");
  });

  it("keeps IPv6 addresses from a real capture", () => {
    const [first] = readHexCapture(fixture("hep", "kamailio-ipv6.hex"));
    const e = hepToSipEvent(decode(first!), { source: "v6", line: 1 });
    assert.ok(e.type === "event" && e.event.type === "sip.request");
    assert.deepEqual(e.event.source, { ip: "::1", family: "ipv6", port: 5071, transport: "udp" });
    assert.equal(e.event.expires, 60);
    assert.equal(e.event.requestUser, undefined);
  });

  it("names the dialled user of an INVITE and the transport from the IP protocol", () => {
    const p = buildHep3({
      srcIp: "203.0.113.5",
      dstIp: "192.0.2.10",
      ipProtocol: 6,
      timeSec: 1704391965,
      timeUsec: 999999,
      payload: sipRequest({ method: "INVITE", user: "900441234567" }),
    });
    const e = hepToSipEvent(decode(p), { source: "x", line: 1 });
    assert.ok(e.type === "event" && e.event.type === "sip.request");
    assert.equal(e.event.requestUser, "900441234567");
    assert.equal(e.event.source.transport, "tcp");
    assert.equal(e.event.at, 1704391965999);
  });

  it("skips other protocols and rejects SIP packets it cannot use", () => {
    const rtcp = buildHep3({ srcIp: "203.0.113.5", dstIp: "192.0.2.10", protocolType: 5, payload: "x" });
    assert.equal(hepToSipEvent(decode(rtcp), { source: "x", line: 1 }).type, "skip");
    const junk = buildHep3({ srcIp: "203.0.113.5", dstIp: "192.0.2.10", payload: "\u0000\u0001garbage" });
    const r = hepToSipEvent(decode(junk), { source: "x", line: 1 });
    assert.equal(r.type, "rejected");
    assert.match(r.type === "rejected" ? r.reason : "", /^SIP: not a SIP start line/);
  });
});
