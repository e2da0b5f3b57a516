import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ipv6Bytes } from "../../../../test/support/flow-packets.js";
import { ipv6Text, u64, uint } from "./bytes.js";

const text = (addr: string) => ipv6Text(Uint8Array.from(ipv6Bytes(addr)), 0);

describe("flow byte readers", () => {
  it("writes IPv6 addresses in RFC 5952 form", () => {
    assert.equal(text("2001:0db8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
    assert.equal(text("2001:db8:0:1:0:0:0:1"), "2001:db8:0:1::1", "longest zero run");
    assert.equal(text("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1", "first of equal runs");
    assert.equal(text("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1", "a single zero group stays");
    assert.equal(text("::"), "::");
    assert.equal(text("::1"), "::1");
    assert.equal(text("fe80::"), "fe80::");
    assert.equal(text("::ffff:c000:280"), "::ffff:192.0.2.128");
  });

  it("reads unsigned integers of any length up to 8 bytes", () => {
    const b = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(uint(b, 0, 1), 1);
    assert.equal(uint(b, 0, 3), 0x010203);
    assert.equal(uint(b, 0, 6), 0x010203040506);
    assert.equal(uint(b, 0, 8), u64(b, 0));
    assert.equal(uint(b, 0, 9), u64(b, 1), "longer fields keep their low 8 bytes");
    assert.equal(uint(b, 0, 0), 0);
  });
});
