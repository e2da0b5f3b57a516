import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CidrSet } from "../core/cidr.js";
import { forwardedFor, resolveClient } from "./client-identity.js";

const trusted = (() => {
  const r = CidrSet.parse(["10.0.0.0/8", "2001:db8:ffff::/48"]);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
})();

function who(
  peer: string,
  header: string | undefined,
  kind: "x-forwarded-for" | "forwarded" = "x-forwarded-for",
) {
  const r = resolveClient(peer, header, kind, trusted);
  if (!r.ok) assert.fail(r.error);
  return r.value;
}

describe("client identity", () => {
  it("refuses a spoofed X-Forwarded-For from an untrusted peer: the peer is the client", () => {
    const c = who("198.51.100.7", "1.2.3.4, 5.6.7.8");
    assert.equal(c.text, "198.51.100.7");
    assert.equal(c.via, "socket");
  });

  it("takes the rightmost untrusted hop behind trusted proxies, not the leftmost", () => {
    // The client wrote 1.2.3.4 itself; the first proxy saw it come from 203.0.113.9.
    const c = who("10.1.1.1", "1.2.3.4, 203.0.113.9, 10.2.2.2");
    assert.equal(c.text, "203.0.113.9");
    assert.equal(c.via, "forwarded");
  });

  it("uses the peer when a trusted proxy sends no header", () => {
    assert.equal(who("10.1.1.1", undefined).text, "10.1.1.1");
  });

  it("falls back to the nearest trusted hop when the chain is garbage", () => {
    const c = who("10.1.1.1", "1.2.3.4, not-an-ip, 10.2.2.2");
    assert.equal(c.text, "10.2.2.2");
    assert.equal(c.malformed, true);
  });

  it("takes the leftmost hop when every hop is trusted", () => {
    assert.equal(who("10.1.1.1", "10.9.9.9, 10.2.2.2").text, "10.9.9.9");
  });

  it("reads ports, brackets and IPv4-mapped peers", () => {
    assert.equal(who("::ffff:10.1.1.1", "203.0.113.9:4711").text, "203.0.113.9");
    assert.equal(who("10.1.1.1", "[2001:db8::5]:443").text, "2001:db8::5");
    assert.equal(who("::ffff:198.51.100.7", "1.2.3.4").text, "198.51.100.7");
  });

  it("reads RFC 7239 Forwarded", () => {
    const h = 'for=1.2.3.4;proto=https, for="[2001:db8::7]:4711";by=10.0.0.1, for=10.3.3.3';
    assert.equal(who("10.1.1.1", h, "forwarded").text, "2001:db8::7");
    assert.equal(who("10.1.1.1", "for=unknown", "forwarded").text, "10.1.1.1");
  });

  it("refuses a peer that is not an address", () => {
    assert.equal(resolveClient("", undefined, "x-forwarded-for", trusted).ok, false);
  });

  it("appends to X-Forwarded-For only what it can vouch for", () => {
    assert.equal(forwardedFor("10.1.1.1", "203.0.113.9", true), "203.0.113.9, 10.1.1.1");
    assert.equal(forwardedFor("::ffff:198.51.100.7", "1.2.3.4", false), "198.51.100.7");
    assert.equal(forwardedFor("198.51.100.7", undefined, false), "198.51.100.7");
  });
});
