import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fixture } from "../../../../test/support/paths.js";
import { parseKamailio } from "./kamailio.js";
import type { ParseContext, SipLineResult } from "./types.js";

function parseFixture(name: string, extra: Partial<ParseContext> = {}): SipLineResult[] {
  const lines = readFileSync(fixture("seclog", name), "utf8").split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((l, i) => parseKamailio(l, { source: name, line: i + 1, ...extra }));
}

const reasonOf = (r: SipLineResult | undefined) => (r?.type === "rejected" ? r.reason : r?.type);

describe("Kamailio log", () => {
  it("reads the lines a real Kamailio 5.6 wrote to stderr", () => {
    const r = parseFixture("kamailio-stderr.log");
    assert.deepEqual(r[0], {
      type: "event",
      event: {
        type: "sip.auth-failure",
        at: 1795307740393,
        service: "kamailio",
        source: { ip: "127.0.0.1", family: "ipv4", port: 5071, transport: "udp" },
        account: "100",
        userAgent: "friendly-scanner",
        callId: "c100-1795307740390@127.0.0.1",
        method: "REGISTER",
        raw: { source: "kamailio-stderr.log", line: 1 },
        reason: "wrong-password",
        detail: "rc=-2",
      },
    });
    assert.ok(r[1]?.type === "event");
    assert.equal(r[1].event.type, "sip.auth-success");
    assert.equal(r[1].event.at, 1795307740697);
    // Kamailio on stderr prints no time: only lines that carry ts= can be used.
    assert.match(reasonOf(r[2]) ?? "", /no time stamp/);
    assert.match(reasonOf(r[3]) ?? "", /no time stamp/);
    assert.match(reasonOf(r[4]) ?? "", /without a source address/);
    assert.ok(r[5]?.type === "event" && r[5].event.type === "sip.auth-failure");
    assert.equal(r[5].event.reason, "other");
    assert.ok(r[6]?.type === "event");
    assert.deepEqual(r[6].event.source, { ip: "::1", family: "ipv6", port: 5071, transport: "udp" });
    assert.equal(r[6].event.userAgent, "Mamori-Fixture/1.0");
    // With the log_prefix the auth module's own line names the source (but has no time on stderr).
    assert.match(reasonOf(r[7]) ?? "", /no time stamp/);
    assert.ok(r[8]?.type === "event");
    assert.equal(r[8].event.at, 1795307864332);
    assert.equal(reasonOf(r[9]), "skip");
  });

  it("reads syslog lines: our line, pike, free-form auth failures; refuses injected addresses", () => {
    const r = parseFixture("kamailio-syslog.log", { year: 2024 });
    const raw = (line: number) => ({ source: "kamailio-syslog.log", line });
    assert.deepEqual(r[0], {
      type: "event",
      event: {
        type: "sip.auth-failure",
        at: 1704391965123,
        service: "kamailio",
        source: { ip: "203.0.113.5", family: "ipv4", port: 5062, transport: "tcp" },
        account: "900441234567",
        userAgent: "PolycomSoundPointIP-SPIP_550-UA/3.3.4.0085",
        callId: "k1@x",
        method: "INVITE",
        raw: raw(1),
        reason: "unknown-account",
        detail: "rc=-3",
      },
    });
    assert.deepEqual(r[1], {
      type: "event",
      event: {
        type: "sip.auth-failure",
        at: Date.parse("2024-01-05T03:12:46Z"),
        service: "kamailio",
        source: { ip: "203.0.113.5", family: "ipv4", port: 5062 },
        reason: "other",
        detail: "Auth failed for sip:100@example.net from 203.0.113.5:5062",
        raw: raw(2),
      },
    });
    assert.deepEqual(r[2], {
      type: "event",
      event: {
        type: "sip.rate-limited",
        at: Date.parse("2024-01-05T03:12:47Z"),
        service: "kamailio",
        source: { ip: "2001:db8::5", family: "ipv6" },
        limiter: "pike",
        raw: raw(3),
      },
    });
    // The default config's alert: the address is the one Kamailio wrote at the end of the line.
    assert.ok(r[3]?.type === "event" && r[3].event.type === "sip.rate-limited");
    assert.deepEqual(r[3].event.source, { ip: "203.0.113.5", family: "ipv4", port: 5062 });
    assert.equal(r[3].event.method, "INVITE");
    assert.match(reasonOf(r[4]) ?? "", /more than one address/);
    assert.match(reasonOf(r[5]) ?? "", /names no source address/);
    // A caller's User-Agent cannot override fields Kamailio wrote before it.
    assert.ok(r[6]?.type === "event");
    assert.deepEqual(r[6].event.source, { ip: "203.0.113.5", family: "ipv4", port: 5062, transport: "udp" });
    assert.equal(r[6].event.userAgent, "evil si=198.51.100.200 sp=1");
    // rc -5 (no credentials yet) is a challenge, not a failure; <null> is no value.
    assert.ok(r[7]?.type === "event");
    assert.equal(r[7].event.type, "sip.challenge-sent");
    assert.equal(r[7].event.at, 1704391972500);
    assert.equal(r[7].event.account, "100");
    assert.equal(r[7].event.userAgent, undefined);
    assert.ok(r[8]?.type === "event" && r[8].event.type === "sip.auth-failure");
    assert.equal(r[8].event.reason, "user-mismatch");
    assert.equal(r[8].event.account, "101");
    assert.equal(r[8].event.userAgent, "X-Lite release 5.8.3 stamp 102651");
    assert.ok(r[9]?.type === "event" && r[9].event.type === "sip.rate-limited");
    assert.equal(r[9].event.limiter, "htable");
    assert.equal(reasonOf(r[10]), "skip");
    // Without ts= the syslog time is used.
    assert.ok(r[11]?.type === "event");
    assert.equal(r[11].event.at, Date.parse("2024-01-05T03:12:56Z"));
    assert.match(reasonOf(r[12]) ?? "", /si=/);
  });

  it("does not read our line when it is not at the start of the message", () => {
    const line =
      "Jan  5 03:12:45 sip1 kamailio[1]: NOTICE: <script>: user said mamori event=auth-success si=198.51.100.1";
    assert.equal(parseKamailio(line, { source: "x", line: 1, year: 2024 }).type, "skip");
  });
});
