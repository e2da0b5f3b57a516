import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fixture } from "../../../../test/support/paths.js";
import { parseAsteriskSecurity, parseSecurityAddress } from "./asterisk-security.js";
import type { ParseContext, SeclogParser, SipLineResult } from "./types.js";

function parseFixture(
  parser: SeclogParser,
  name: string,
  extra: Partial<ParseContext> = {},
): SipLineResult[] {
  const lines = readFileSync(fixture("seclog", name), "utf8").split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((l, i) => parser(l, { source: name, line: i + 1, ...extra }));
}

const v4 = (ip: string, port: number, transport: "udp" | "tcp" | "tls") => ({
  ip,
  family: "ipv4",
  port,
  transport,
});
const PBX = v4("192.0.2.10", 5060, "udp");
const ATTACKER = v4("203.0.113.5", 5062, "udp");

describe("Asterisk security log", () => {
  it("reads every event kind with ISO EventTV behind the log-file prefix", () => {
    const raw = (line: number) => ({ source: "asterisk-security-iso.log", line });
    const at = (s: string) => Date.parse(s);
    assert.deepEqual(parseFixture(parseAsteriskSecurity, "asterisk-security-iso.log"), [
      {
        type: "event",
        event: {
          type: "sip.auth-failure",
          at: at("2024-01-04T18:12:45.123Z"),
          service: "asterisk-pjsip",
          source: ATTACKER,
          account: "101",
          callId: "a1b2c3@198.51.100.20",
          destination: PBX,
          raw: raw(1),
          reason: "unknown-account",
          detail: "InvalidAccountID",
        },
      },
      {
        type: "event",
        event: {
          type: "sip.auth-failure",
          at: at("2024-01-04T18:12:46.001Z"),
          service: "asterisk-pjsip",
          source: ATTACKER,
          account: "100",
          callId: "c2",
          destination: PBX,
          raw: raw(2),
          reason: "challenge-failed",
          detail: "ChallengeResponseFailed",
        },
      },
      {
        type: "event",
        event: {
          type: "sip.auth-failure",
          at: at("2024-01-04T18:12:47.500Z"),
          service: "asterisk-pjsip",
          source: ATTACKER,
          account: "100",
          callId: "c3",
          destination: PBX,
          raw: raw(3),
          reason: "wrong-password",
          detail: "InvalidPassword",
        },
      },
      {
        type: "event",
        event: {
          type: "sip.auth-failure",
          at: at("2024-01-04T18:12:48.000Z"),
          service: "asterisk-pjsip",
          source: v4("198.51.100.7", 40123, "tcp"),
          account: "200",
          callId: "c4",
          destination: v4("192.0.2.10", 5060, "tcp"),
          raw: raw(4),
          reason: "acl",
          detail: "FailedACL",
        },
      },
      {
        type: "event",
        event: {
          type: "sip.auth-failure",
          at: at("2024-01-04T18:12:49.000Z"),
          service: "asterisk-pjsip",
          source: v4("198.51.100.7", 5060, "udp"),
          account: "200",
          callId: "c5",
          destination: PBX,
          method: "SUBSCRIBE",
          raw: raw(5),
          reason: "not-allowed",
          detail: "RequestNotAllowed",
        },
      },
      {
        type: "event",
        event: {
          type: "sip.auth-success",
          at: at("2024-01-04T18:12:50.250Z"),
          service: "asterisk-pjsip",
          source: v4("192.0.2.77", 51000, "tls"),
          account: "100",
          callId: "c6",
          destination: v4("192.0.2.10", 5061, "tls"),
          raw: raw(6),
        },
      },
      {
        type: "event",
        event: {
          type: "sip.challenge-sent",
          at: at("2024-01-04T18:12:51.000Z"),
          service: "asterisk-pjsip",
          source: ATTACKER,
          account: "100",
          callId: "c7",
          destination: PBX,
          raw: raw(7),
        },
      },
      {
        type: "event",
        event: {
          type: "sip.auth-failure",
          at: at("2024-01-04T18:12:52.000Z"),
          service: "asterisk-chan_sip",
          source: v4("198.51.100.9", 5060, "udp"),
          account: "300",
          destination: PBX,
          raw: raw(8),
          reason: "unexpected-address",
          detail: "UnexpectedAddress",
        },
      },
      {
        type: "event",
        event: {
          type: "sip.auth-failure",
          at: at("2024-01-04T18:12:53.000Z"),
          service: "asterisk-chan_sip",
          source: v4("198.51.100.9", 5060, "udp"),
          account: "300",
          destination: PBX,
          raw: raw(9),
          reason: "auth-method-not-allowed",
          detail: "AuthMethodNotAllowed",
        },
      },
      {
        type: "event",
        event: {
          type: "sip.auth-failure",
          at: at("2024-01-04T18:12:54.000Z"),
          service: "asterisk-pjsip",
          source: v4("203.0.113.9", 5060, "udp"),
          callId: "c10",
          destination: PBX,
          method: "REGISTER",
          raw: raw(10),
          reason: "bad-format",
          detail: "RequestBadFormat",
        },
      },
      {
        type: "event",
        event: {
          type: "sip.auth-failure",
          at: at("2024-01-04T18:12:55.000Z"),
          service: "asterisk-ami",
          source: v4("203.0.113.44", 51515, "tcp"),
          account: "admin",
          destination: v4("192.0.2.10", 5038, "tcp"),
          raw: raw(11),
          reason: "limit",
          detail: "SessionLimit",
        },
      },
      {
        type: "event",
        event: {
          type: "sip.auth-failure",
          at: at("2024-01-04T18:12:56.000Z"),
          service: "asterisk-pjsip",
          source: ATTACKER,
          account: "100",
          callId: "c12",
          destination: PBX,
          raw: raw(12),
          reason: "not-allowed",
          detail: "InvalidTransport",
        },
      },
      { type: "skip" },
      {
        type: "event",
        event: {
          type: "sip.auth-failure",
          at: at("2024-01-04T18:12:58.000Z"),
          service: "asterisk-pjsip",
          source: ATTACKER,
          account: "100",
          callId: "c14",
          destination: PBX,
          raw: raw(14),
          reason: "other",
          detail: "SomethingBad",
        },
      },
      { type: "skip" },
    ]);
  });

  it("reads the epoch-with-microseconds EventTV of older releases", () => {
    const results = parseFixture(parseAsteriskSecurity, "asterisk-security-epoch.log", { year: 2024 });
    const events = results.map((r) => (r.type === "event" ? r.event : undefined));
    assert.deepEqual(
      events.map(
        (e) => e && [e.type, e.at, e.service, e.account, e.type === "sip.auth-failure" ? e.reason : ""],
      ),
      [
        ["sip.auth-failure", 1704391965123, "asterisk-chan_sip", "1001", "unknown-account"],
        ["sip.auth-failure", 1704391966000, "asterisk-chan_sip", "1001", "wrong-password"],
        ["sip.auth-failure", 1704391967999, "asterisk-chan_sip", "1001", "challenge-failed"],
      ],
    );
    // chan_sip's SessionID is a pointer, not a Call-ID.
    assert.equal(events[0]?.callId, undefined);
  });

  it("reads IPv6 remote addresses with and without brackets, in canonical form", () => {
    const results = parseFixture(parseAsteriskSecurity, "asterisk-security-ipv6.log");
    const sources = results.map((r) => (r.type === "event" ? r.event.source : r));
    assert.deepEqual(sources, [
      { ip: "2001:db8::5", family: "ipv6", port: 5060, transport: "udp" },
      { ip: "2001:db8::5", family: "ipv6", port: 50600, transport: "tcp" },
      // An IPv4-mapped address is the IPv4 host, so one ban covers both.
      { ip: "203.0.113.5", family: "ipv4", port: 5060, transport: "udp" },
    ]);
  });

  it("reads lines behind a syslog header, falling back to its time when EventTV is missing", () => {
    const results = parseFixture(parseAsteriskSecurity, "asterisk-security-syslog.log", { year: 2024 });
    assert.deepEqual(
      results.map((r) => r.type === "event" && [r.event.at, r.event.account]),
      [
        [Date.parse("2024-01-04T18:12:45.123Z"), "100"],
        [Date.parse("2024-01-04T18:12:46.500Z"), "102"],
      ],
    );
  });

  it("rejects tampered, unreadable and cut lines with a reason", () => {
    const results = parseFixture(parseAsteriskSecurity, "asterisk-security-injection.log");
    assert.equal(results[0]?.type, "rejected");
    assert.match((results[0] as { reason: string }).reason, /RemoteAddress appears twice/);
    // Quotes inside a value that do not start a new field are part of the value.
    assert.equal(results[1]?.type === "event" && results[1].event.account, 'say "hi" to me');
    assert.match((results[2] as { reason: string }).reason, /unreadable RemoteAddress/);
    assert.match((results[3] as { reason: string }).reason, /EventTV: invalid date/);
    assert.match((results[4] as { reason: string }).reason, /malformed/);
    for (const r of [results[0], results[2], results[3], results[4]]) {
      assert.equal(r?.type, "rejected");
      assert.equal((r as { source: string }).source, "asterisk-security-injection.log");
    }
  });

  it("skips lines that are not security events", () => {
    assert.deepEqual(parseAsteriskSecurity("", { source: "x", line: 1 }), { type: "skip" });
    assert.deepEqual(
      parseAsteriskSecurity("[2024-01-05 03:12:45] VERBOSE[1] pbx.c: Executing", { source: "x", line: 1 }),
      { type: "skip" },
    );
  });

  it("parses the address field forms", () => {
    assert.deepEqual(parseSecurityAddress("IPV4/WSS/198.51.100.1/8089"), {
      ip: "198.51.100.1",
      family: "ipv4",
      port: 8089,
      transport: "wss",
    });
    assert.equal(parseSecurityAddress("IPV4/UDP/198.51.100.1"), undefined);
    assert.equal(parseSecurityAddress("IPX/UDP/198.51.100.1/5060"), undefined);
    assert.equal(parseSecurityAddress("IPV4/UDP/198.51.100.1/99999"), undefined);
  });
});
