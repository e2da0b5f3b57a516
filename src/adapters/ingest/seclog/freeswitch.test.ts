import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fixture } from "../../../../test/support/paths.js";
import { parseFreeswitch } from "./freeswitch.js";
import type { SipLineResult } from "./types.js";

const reasonOf = (r: SipLineResult | undefined) => (r?.type === "rejected" ? r.reason : r?.type);

describe("FreeSWITCH log", () => {
  const lines = readFileSync(fixture("seclog", "freeswitch.log"), "utf8").trimEnd().split("\n");
  const r = lines.map((l, i) =>
    parseFreeswitch(l, { source: "freeswitch.log", line: i + 1, timeZone: "Asia/Tokyo" }),
  );

  it("reads auth failures and challenges for REGISTER and INVITE", () => {
    assert.deepEqual(r[0], {
      type: "event",
      event: {
        type: "sip.auth-failure",
        at: Date.parse("2024-01-04T18:12:45.123Z"),
        service: "freeswitch",
        source: { ip: "203.0.113.5", family: "ipv4" },
        account: "100",
        method: "REGISTER",
        raw: { source: "freeswitch.log", line: 1 },
        reason: "wrong-password",
        detail: "SIP auth failure on profile internal",
      },
    });
    assert.deepEqual(r[1], {
      type: "event",
      event: {
        type: "sip.challenge-sent",
        at: Date.parse("2024-01-04T18:12:46.000Z"),
        service: "freeswitch",
        source: { ip: "203.0.113.5", family: "ipv4" },
        account: "900441234567",
        method: "INVITE",
        raw: { source: "freeswitch.log", line: 2 },
      },
    });
    assert.ok(r[2]?.type === "event" && r[2].event.type === "sip.auth-failure");
    assert.equal(r[2].event.method, "INVITE");
    assert.equal(r[2].event.account, "011441234567");
  });

  it("reads unknown users, ACL rejections, UUID and CPU prefixes and IPv6", () => {
    assert.ok(r[3]?.type === "event" && r[3].event.type === "sip.auth-failure");
    assert.equal(r[3].event.reason, "unknown-account");
    assert.equal(r[3].event.account, "777");
    assert.ok(r[4]?.type === "event");
    assert.deepEqual(r[4].event.source, { ip: "2001:db8::5", family: "ipv6" });
    assert.ok(r[5]?.type === "event" && r[5].event.type === "sip.auth-failure");
    assert.equal(r[5].event.reason, "acl");
    // An ACL miss that falls back to digest authentication is not a failure.
    assert.equal(reasonOf(r[6]), "skip");
  });

  it("takes the address from the end of the line, whatever the caller put in the user part", () => {
    assert.ok(r[7]?.type === "event");
    assert.equal(r[7].event.source.ip, "203.0.113.5");
  });

  it("skips other lines and rejects lines without time or with a host name", () => {
    assert.equal(reasonOf(r[8]), "skip");
    assert.match(reasonOf(r[9]) ?? "", /no time stamp/);
    assert.match(reasonOf(r[10]) ?? "", /unreadable source address/);
  });
});
