import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { sipRequest } from "../../../../test/support/hep-packets.js";
import { parseSipMessage } from "./sip-message.js";

describe("SIP message parser", () => {
  it("reads a request's start line and the headers the guard needs", () => {
    const r = parseSipMessage(
      Buffer.from(sipRequest({ authUser: "100", userAgent: "PortSIP VoIP SDK 11.2" })),
    );
    assert.ok(r.ok && r.value.type === "request");
    const m = r.value;
    assert.equal(m.method, "REGISTER");
    assert.equal(m.requestUri, "sip:192.0.2.10");
    assert.deepEqual(m.via, {
      transport: "UDP",
      host: "203.0.113.5",
      port: 5062,
      branch: "z9hG4bK-1",
      received: undefined,
      rport: "",
    });
    assert.equal(m.from?.user, "100");
    assert.equal(m.from?.display, "100");
    assert.equal(m.from?.tag, "abc");
    assert.equal(m.to?.user, "100");
    assert.equal(m.to?.tag, undefined);
    assert.equal(m.callId, "call-1");
    assert.deepEqual(m.cseq, { seq: 1, method: "REGISTER" });
    assert.equal(m.userAgent, "PortSIP VoIP SDK 11.2");
    assert.equal(m.contact, "<sip:100@203.0.113.5:5062>");
    assert.equal(m.expires, 3600);
    assert.equal(m.hasAuthorization, true);
    assert.equal(m.authUser, "100");
  });

  it("reads a response with compact headers, LF line ends, folding and a body", () => {
    const text = [
      "SIP/2.0 401 Unauthorized",
      "v: SIP/2.0/TCP [2001:db8::5]:5070;branch=z9hG4bK-2;received=2001:db8::5, SIP/2.0/UDP 192.0.2.1",
      'f: "Front \\"Desk\\"" <sip:200@pbx.example>;tag=t1',
      "t: sip:200@pbx.example;tag=t2",
      "i: abc@def",
      "CSeq: 7",
      "  INVITE",
      "Server: Asterisk PBX 20.5.0",
      'WWW-Authenticate: Digest realm="x", nonce="y"',
      "l: 4",
      "",
      "body",
    ].join("\n");
    const r = parseSipMessage(text);
    assert.ok(r.ok && r.value.type === "response");
    const m = r.value;
    assert.equal(m.status, 401);
    assert.equal(m.reason, "Unauthorized");
    assert.equal(m.via?.transport, "TCP");
    assert.equal(m.via?.host, "[2001:db8::5]");
    assert.equal(m.via?.port, 5070);
    assert.equal(m.from?.display, 'Front "Desk"');
    assert.equal(m.from?.user, "200");
    assert.equal(m.to?.tag, "t2");
    assert.equal(m.callId, "abc@def");
    assert.deepEqual(m.cseq, { seq: 7, method: "INVITE" });
    assert.equal(m.server, "Asterisk PBX 20.5.0");
    assert.equal(m.hasAuthorization, false);
  });

  it("takes Proxy-Authorization, unquoted user names and tel: URIs", () => {
    const text =
      "INVITE tel:+442071234567 SIP/2.0\r\nFrom: <tel:+81312345678>;tag=a\r\nProxy-Authorization: Digest username=carol, realm=x\r\n\r\n";
    const r = parseSipMessage(text);
    assert.ok(r.ok && r.value.type === "request");
    assert.equal(r.value.from?.user, "+81312345678");
    assert.equal(r.value.authUser, "carol");
    assert.equal(r.value.hasAuthorization, true);
  });

  it("rejects what is not SIP, and skips headers it cannot read", () => {
    for (const bad of [
      "",
      "\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
      "SIP/2.0 99 Too Low\r\n\r\n",
      "REGISTER sip:x SIP/3.0\r\n",
    ]) {
      assert.equal(parseSipMessage(bad).ok, false, bad);
    }
    const r = parseSipMessage(
      "OPTIONS sip:x SIP/2.0\r\nno colon here\r\nExpires: soon\r\nCSeq: x OPTIONS\r\nCall-ID:\r\n\r\n",
    );
    assert.ok(r.ok && r.value.type === "request");
    assert.equal(r.value.expires, undefined);
    assert.equal(r.value.cseq, undefined);
    assert.equal(r.value.callId, undefined);
  });

  it("limits the header block and the header count", () => {
    const many = "OPTIONS sip:x SIP/2.0\r\n" + "X-A: 1\r\n".repeat(300) + "\r\n";
    const r = parseSipMessage(many);
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.error, /more than 200 header lines/);
    const big = Buffer.from("OPTIONS sip:x SIP/2.0\r\nUser-Agent: " + "x".repeat(50_000) + "\r\n\r\n");
    const limited = parseSipMessage(big, { maxHeaderBytes: 1024 });
    assert.ok(limited.ok);
    assert.ok((limited.value.userAgent?.length ?? 0) < 1024);
  });

  it("never throws on arbitrary bytes or mangled messages", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        const r = parseSipMessage(b);
        return r.ok || r.error.length > 0;
      }),
      { numRuns: 1000 },
    );
    const base = sipRequest({ authUser: "100" });
    fc.assert(
      fc.property(
        fc.nat(base.length),
        fc.nat(base.length),
        fc.string({ unit: fc.constantFrom("\r", "\n", ":", ";", '"', "<", ">", ",", " ", "=", "\\") }),
        (a, b, noise) => {
          const s = base.slice(0, Math.min(a, b)) + noise + base.slice(Math.max(a, b));
          const r = parseSipMessage(s);
          return r.ok || r.error.length > 0;
        },
      ),
      { numRuns: 2000 },
    );
  });
});
