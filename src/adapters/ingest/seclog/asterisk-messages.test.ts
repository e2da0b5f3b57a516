import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fixture } from "../../../../test/support/paths.js";
import { parseAsteriskMessages } from "./asterisk-messages.js";
import type { ParseContext, SipLineResult } from "./types.js";

function parseFixture(name: string, extra: Partial<ParseContext> = {}): SipLineResult[] {
  const lines = readFileSync(fixture("seclog", name), "utf8").split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((l, i) => parseAsteriskMessages(l, { source: name, line: i + 1, ...extra }));
}

const v4 = (ip: string, port?: number) =>
  port === undefined ? { ip, family: "ipv4" } : { ip, family: "ipv4", port };
const JST = { timeZone: "Asia/Tokyo" };
const reasonOf = (r: SipLineResult | undefined) => (r?.type === "rejected" ? r.reason : r?.type);

describe("Asterisk messages log: res_pjsip", () => {
  it("reads each failure reason, with and without method, port and Call-ID", () => {
    const r = parseFixture("asterisk-pjsip.log", JST);
    const raw = (line: number) => ({ source: "asterisk-pjsip.log", line });
    assert.deepEqual(r[0], {
      type: "event",
      event: {
        type: "sip.auth-failure",
        at: Date.parse("2024-01-04T18:12:45Z"),
        service: "asterisk-pjsip",
        source: v4("203.0.113.5", 5062),
        account: "100",
        callId: "abc",
        raw: raw(1),
        reason: "wrong-password",
        method: "REGISTER",
        detail: "Failed to authenticate",
      },
    });
    assert.deepEqual(r[1], {
      type: "event",
      event: {
        type: "sip.auth-failure",
        at: Date.parse("2024-01-04T18:12:46Z"),
        service: "asterisk-pjsip",
        source: v4("203.0.113.5", 5062),
        account: "900441234567",
        callId: "4d2f-77",
        raw: raw(2),
        reason: "unknown-account",
        method: "INVITE",
        detail: "No matching endpoint found",
      },
    });
    const summary = r.map((x) =>
      x.type === "event" && x.event.type === "sip.auth-failure"
        ? [x.event.reason, x.event.account, x.event.source.ip, x.event.source.port, x.event.method]
        : x.type === "event"
          ? [x.event.type, x.event.account, x.event.source.ip, x.event.source.port]
          : reasonOf(x),
    );
    assert.deepEqual(summary.slice(2), [
      ["acl", "201", "198.51.100.7", 5060, "REGISTER"],
      ["acl", "201", "198.51.100.7", 5060, "REGISTER"],
      ["other", "100", "203.0.113.5", 5062, "OPTIONS"],
      ["unknown-account", "555", "203.0.113.5", 5062, "REGISTER"],
      // Before Asterisk 13.8 the method was not printed; `<unknown>` is no account.
      ["unknown-account", undefined, "203.0.113.5", undefined, undefined],
      ["wrong-password", "100", "2001:db8::5", 5062, "REGISTER"],
      ["wrong-password", "100", "2001:db8::5", undefined, "REGISTER"],
      ["sip.call-rejected", "anonymous", "203.0.113.5", 5060],
      'unreadable source address "pbx.example.net:5060"',
      "skip",
    ]);
    const noCallId = r[6];
    assert.equal(noCallId?.type === "event" && noCallId.event.callId, undefined);
  });

  it("reads res_pjsip_session's rejected call with its transport", () => {
    const r = parseFixture("asterisk-pjsip.log", JST)[9];
    assert.deepEqual(r, {
      type: "event",
      event: {
        type: "sip.call-rejected",
        at: Date.parse("2024-01-04T18:12:54Z"),
        service: "asterisk-pjsip",
        source: { ip: "203.0.113.5", family: "ipv4", port: 5060, transport: "udp" },
        account: "anonymous",
        raw: { source: "asterisk-pjsip.log", line: 10 },
        to: "011972599123456",
        context: "public",
        detail: "extension not found",
      },
    });
  });
});

describe("Asterisk messages log: chan_sip", () => {
  it("reads legacy times (with the year given) and every registration failure", () => {
    const r = parseFixture("asterisk-chan-sip.log", { year: 2024 });
    const summary = r.map((x) =>
      x.type === "event" && x.event.type === "sip.auth-failure"
        ? [x.event.reason, x.event.account, x.event.source.ip, x.event.source.port]
        : x.type === "event" && x.event.type === "sip.call-rejected"
          ? ["call", x.event.to, x.event.context, x.event.source.ip, x.event.source.port, x.event.account]
          : reasonOf(x),
    );
    assert.deepEqual(summary, [
      ["wrong-password", "100", "203.0.113.5", 5062],
      ["unknown-account", "777", "203.0.113.5", 5062],
      ["user-mismatch", "100", "203.0.113.5", 5062],
      ["acl", "300", "198.51.100.9", undefined],
      ["acl", "300", "198.51.100.9", 5060],
      ["not-allowed", "trunk", "198.51.100.9", 5060],
      ["not-allowed", "100", "203.0.113.5", 5062],
      ["call", "900441234567", "default", "203.0.113.5", 5060, undefined],
      ["call", "011441234567", "default", "203.0.113.5", undefined, undefined],
      ["wrong-password", "100", "2001:db8::5", 5062],
      "skip",
    ]);
    const first = r[0];
    assert.ok(first?.type === "event");
    assert.equal(first.event.at, Date.parse("2024-01-05T03:12:45Z"));
    assert.equal(first.event.service, "asterisk-chan_sip");
    assert.equal(first.event.type === "sip.auth-failure" && first.event.method, "REGISTER");
  });

  it("rejects legacy times when no year is given", () => {
    const r = parseFixture("asterisk-chan-sip.log")[0];
    assert.match(reasonOf(r) ?? "", /no year/);
  });
});

describe("Asterisk messages log: prefixes and hostile text", () => {
  it("strips ANSI colour codes", () => {
    const r = parseFixture("asterisk-colour.log", { year: 2024 });
    assert.deepEqual(
      r.map(
        (x) =>
          x.type === "event" && [
            x.event.type,
            x.event.service,
            x.event.source.ip,
            x.event.account,
            x.event.at,
          ],
      ),
      [
        ["sip.auth-failure", "asterisk-pjsip", "203.0.113.5", "100", Date.parse("2024-01-05T03:12:45Z")],
        ["sip.auth-failure", "asterisk-chan_sip", "203.0.113.5", "100", Date.parse("2024-01-05T03:12:46Z")],
      ],
    );
  });

  it("reads verbose prefixes with milliseconds and call ids, and refuses lines without a time", () => {
    const r = parseFixture("asterisk-verbose-prefix.log");
    assert.ok(r[0]?.type === "event");
    assert.equal(r[0].event.at, Date.parse("2024-01-05T03:12:45.123Z"));
    assert.ok(r[1]?.type === "event");
    assert.equal(r[1].event.type, "sip.call-rejected");
    assert.equal(r[1].event.at, Date.parse("2024-01-05T03:12:46.987Z"));
    assert.equal(reasonOf(r[2]), "line has no time stamp");
  });

  it("keeps display names with spaces and quotes, and never blames an address a caller wrote", () => {
    const r = parseFixture("asterisk-quoted-names.log", { ...JST, year: 2024 });
    assert.ok(r[0]?.type === "event" && r[1]?.type === "event");
    assert.equal(r[0].event.account, "100");
    assert.equal(r[1].event.account, "101");
    for (const x of r.slice(2)) {
      assert.equal(x.type, "rejected", JSON.stringify(x));
      assert.match(reasonOf(x) ?? "", /more than once/);
    }
  });

  it("reads lines behind syslog headers, RFC 3164 and ISO", () => {
    const r = parseFixture("asterisk-syslog.log", { year: 2024, timeZone: "Asia/Tokyo" });
    assert.deepEqual(
      r.map((x) => x.type === "event" && [x.event.type, x.event.service, x.event.at]),
      [
        ["sip.auth-failure", "asterisk-pjsip", Date.parse("2024-01-04T18:12:45Z")],
        ["sip.auth-failure", "asterisk-chan_sip", Date.parse("2024-01-04T18:12:46.250Z")],
        ["sip.call-rejected", "asterisk-chan_sip", Date.parse("2024-01-04T18:12:47Z")],
      ],
    );
  });

  it("reads IAX2 and manager failures", () => {
    const r = parseFixture("asterisk-iax-ami.log");
    assert.deepEqual(
      r.map(
        (x) =>
          x.type === "event" &&
          x.event.type === "sip.auth-failure" && [
            x.event.service,
            x.event.reason,
            x.event.account,
            x.event.source.ip,
          ],
      ),
      [
        ["asterisk-iax2", "wrong-password", "100", "203.0.113.5"],
        ["asterisk-iax2", "wrong-password", "100", "203.0.113.5"],
        ["asterisk-iax2", "unknown-account", "999", "203.0.113.5"],
        ["asterisk-ami", "unknown-account", "root", "203.0.113.44"],
        ["asterisk-ami", "wrong-password", "admin", "203.0.113.44"],
      ],
    );
  });

  it("rejects a time zone it does not know", () => {
    const line =
      "[2024-01-05 03:12:45] NOTICE[1] chan_sip.c: Registration from '<sip:1@x>' failed for '203.0.113.5' - Wrong password";
    const r = parseAsteriskMessages(line, { source: "x", line: 1, timeZone: "Mars/Olympus_Mons" });
    assert.match(reasonOf(r) ?? "", /unknown time zone/);
  });
});
