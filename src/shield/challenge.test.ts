import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { challengePage, issueChallenge, PAGE_SOLVER, solveChallenge, verifyPass } from "./challenge.js";
import { TokenSigner } from "./signed-token.js";

const signer = new TokenSigner(["k".repeat(40)]);
const NET = "203.0.113.0/24";

describe("signed tokens", () => {
  it("verify for the same binding before expiry only", () => {
    const t = signer.sign("c", "cust-42", "", 10_000);
    assert.deepEqual(signer.verify(t, "c", "", 9_999), {
      ok: true,
      value: { subject: "cust-42", expiresAt: 10_000 },
    });
    assert.deepEqual(signer.verify(t, "c", "", 10_000), { ok: false, error: "expired" });
    assert.deepEqual(signer.verify(t, "c", "other", 0), { ok: false, error: "bad-signature" });
    assert.deepEqual(signer.verify(t, "t", "", 0), { ok: false, error: "malformed" });
  });

  it("refuse any change to subject, expiry or MAC", () => {
    const t = signer.sign("t", "txn-1", "c:cust-42", 10_000);
    const [k, s, e, m] = t.split(".") as [string, string, string, string];
    const forged = [
      `${k}.${Buffer.from("txn-2").toString("base64url")}.${e}.${m}`,
      `${k}.${s}.${(20_000).toString(36)}.${m}`,
      `${k}.${s}.${e}.${m.slice(0, -2)}AA`,
      `${t}.x`,
      "",
    ];
    for (const f of forged) assert.equal(signer.verify(f, "t", "c:cust-42", 0).ok, false, f);
  });

  it("verify with an older key during rotation; a foreign key fails", () => {
    const old = signer.sign("c", "a", "", 10_000);
    const rotated = new TokenSigner(["n".repeat(40), "k".repeat(40)]);
    assert.equal(rotated.verify(old, "c", "", 0).ok, true);
    assert.equal(new TokenSigner(["x".repeat(40)]).verify(old, "c", "", 0).ok, false);
  });
});

describe("challenge", () => {
  it("accepts a solved nonce bound to the same network, and nothing else", () => {
    const nonce = issueChallenge(signer, "p1", NET, 60_000);
    const n = solveChallenge(nonce, 8);
    assert.ok(n !== undefined);
    assert.deepEqual(verifyPass(signer, `${nonce}~${n}`, NET, 8, 1000), {
      ok: true,
      value: { id: "p1", expiresAt: 60_000 },
    });
    assert.deepEqual(verifyPass(signer, `${nonce}~${n}`, "198.51.100.0/24", 8, 1000), {
      ok: false,
      error: "bad-signature",
    });
    assert.deepEqual(verifyPass(signer, `${nonce}~${n}`, NET, 8, 60_000), { ok: false, error: "expired" });
    const unsolved = [...Array(300).keys()].find(
      (i) => verifyPass(signer, `${nonce}~${i}`, NET, 8, 0).ok === false,
    );
    assert.deepEqual(verifyPass(signer, `${nonce}~${unsolved}`, NET, 8, 0), { ok: false, error: "unsolved" });
    assert.deepEqual(verifyPass(signer, nonce, NET, 8, 0), { ok: false, error: "malformed" });
    assert.deepEqual(verifyPass(signer, `${nonce}~-1`, NET, 8, 0), { ok: false, error: "malformed" });
  });

  it("the page's SHA-256 agrees with node:crypto", () => {
    const page = runInNewContext(`${PAGE_SOLVER}; ({h: h, ok: ok})`) as {
      h: (s: string) => number[];
      ok: (w: number[], b: number) => boolean;
    };
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.integer({ min: 32, max: 126 }).map((c) => String.fromCharCode(c)),
          maxLength: 200,
        }),
        (s) => {
          const want = createHash("sha256").update(s, "latin1").digest("hex");
          const got = page
            .h(s)
            .map((w) => (w >>> 0).toString(16).padStart(8, "0"))
            .join("");
          assert.equal(got, want);
        },
      ),
    );
    assert.equal(page.ok([0, 0x0fffffff], 36), true);
    assert.equal(page.ok([0, 0x1fffffff], 36), false);
  });

  it("the page solves the challenge and sets the pass cookie a browser then sends", () => {
    const nonce = issueChallenge(signer, "p2", NET, 60_000);
    const html = challengePage({
      nonce,
      bits: 10,
      cookie: "mamori_p",
      maxAgeS: 1800,
      secure: false,
      reload: true,
    });
    const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1];
    assert.ok(script);
    const doc = { cookie: "", getElementById: () => ({ textContent: "" }) };
    let reloaded = false;
    runInNewContext(script, {
      document: doc,
      location: {
        reload: () => {
          reloaded = true;
        },
      },
      Date,
      setTimeout: (f: () => void) => f(),
    });
    assert.equal(reloaded, true);
    const m = /^mamori_p=([^;]+); path=\/; max-age=1800; samesite=lax$/.exec(doc.cookie);
    assert.ok(m, doc.cookie);
    assert.equal(verifyPass(signer, m[1] as string, NET, 10, 1000).ok, true);
  });
});
