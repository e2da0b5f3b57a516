import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { request } from "undici";
import { type ShieldHandle, startShield } from "./shield-gateway.js";

/**
 * The gateway's HTTP handling on loopback, against an upstream that echoes what it received: headers
 * that must and must not cross, bodies, time-outs, challenges and upstream failures.
 */
describe("shield gateway", () => {
  let upstream: Server;
  let upstreamUrl = "";
  let shield: ShieldHandle;
  let hang = false;

  before(async () => {
    upstream = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        if (hang) return; // never answers: the gateway's upstream time-out must fire
        const json = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body });
        const headers: Record<string, string | string[]> = {
          "content-type": "application/json",
          "x-mamori-customer": "cust-1",
          "set-cookie": "sid=abc; Path=/",
          connection: "keep-alive, x-secret-hop",
          "x-secret-hop": "must not cross",
        };
        res.writeHead(200, headers);
        res.end(req.method === "HEAD" ? undefined : json);
      });
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
    shield = await startShield({
      upstream: upstreamUrl,
      port: 0,
      registry: new Registry(),
      settings: {
        secrets: ["gateway-test-secret-0123456789abcdefghij"],
        trustedProxies: ["127.0.0.9"],
        server: { requestTimeoutMs: 1500, headersTimeoutMs: 1000, maxBodyBytes: 1000 },
        upstream: { timeoutMs: 500 },
        challenge: { bits: 4 },
      },
    });
  });

  after(async () => {
    await shield?.close();
    await new Promise<void>((r) => {
      upstream.closeAllConnections();
      upstream.close(() => r());
    });
  });

  const call = async (opts: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
  }) => {
    const r = await request(`${shield.address}${opts.path ?? "/echo"}`, {
      method: (opts.method ?? "GET") as "GET",
      headers: opts.headers ?? {},
      body: opts.body ?? null,
    });
    const text = await r.body.text();
    return { status: r.statusCode, headers: r.headers, text };
  };

  it("forwards the request with hop-by-hop and shield headers removed and X-Forwarded-For set", async () => {
    const r = await call({
      method: "POST",
      headers: {
        "x-forwarded-for": "6.6.6.6",
        "x-mamori-class": "transaction",
        "proxy-authorization": "secret",
        cookie: "mamori_p=forged; theme=dark",
        "content-type": "application/json",
      },
      body: '{"a":1}',
    });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.text) as { headers: Record<string, string>; body: string };
    assert.equal(seen.body, '{"a":1}');
    assert.equal(
      seen.headers["x-forwarded-for"],
      "127.0.0.1",
      "a spoofed chain from an untrusted peer is dropped",
    );
    assert.equal(seen.headers["x-mamori-class"], "anonymous");
    assert.equal(seen.headers["x-mamori-client"], "127.0.0.1");
    assert.equal(seen.headers["proxy-authorization"], undefined);
    assert.equal(seen.headers.cookie, "theme=dark");
    // Back to the client: the customer mark became the gateway's session cookie, hop headers are gone.
    assert.equal(r.headers["x-mamori-customer"], undefined);
    assert.equal(r.headers["x-secret-hop"], undefined);
    const cookies = ([] as string[]).concat(r.headers["set-cookie"] ?? []);
    assert.ok(cookies.includes("sid=abc; Path=/"));
    assert.ok(cookies.some((c) => c.startsWith("mamori_c=c.")));
  });

  it("answers HEAD with the upstream's headers and no body", async () => {
    const r = await call({ method: "HEAD" });
    assert.equal(r.status, 200);
    assert.equal(r.text, "");
  });

  it("refuses a body over the limit, declared or streamed", async () => {
    assert.equal((await call({ method: "POST", body: "x".repeat(1001) })).status, 413);
    const chunked = await request(`${shield.address}/echo`, {
      method: "POST",
      body: Readable.from(Array.from({ length: 20 }, () => Buffer.alloc(100, 120))),
    }).catch((e: Error) => e);
    if (!(chunked instanceof Error)) {
      assert.equal(chunked.statusCode, 413);
      await chunked.body.dump();
    }
  });

  it("cuts a slow POST at the request time-out and slow headers at the header time-out", async () => {
    const port = Number(new URL(shield.address).port);
    const life = (payload: string, drip: string) =>
      new Promise<number>((resolve) => {
        const s = connect({ host: "127.0.0.1", port });
        const t0 = Date.now();
        const t = setInterval(() => s.write(drip), 200);
        s.on("connect", () => s.write(payload));
        s.on("data", () => {});
        s.on("error", () => {});
        s.on("close", () => {
          clearInterval(t);
          resolve(Date.now() - t0);
        });
        setTimeout(() => s.destroy(), 5000);
      });
    const [post, loris] = await Promise.all([
      life("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n", "a"),
      life("GET / HTTP/1.1\r\nHost: x\r\n", "X-a: b\r\n"),
    ]);
    assert.ok(post >= 1400 && post < 2500, `slow POST lived ${post} ms`);
    assert.ok(loris >= 900 && loris < 2000, `slowloris lived ${loris} ms`);
  });

  it("answers 504 when the upstream does not answer in time", async () => {
    hang = true;
    try {
      const r = await call({});
      assert.equal(r.status, 504);
      assert.match(r.text, /MAMORI_SHIELD_UPSTREAM/);
    } finally {
      hang = false;
    }
  });

  it("challenges unknown clients under attack: a page for browsers, JSON for programs", async () => {
    shield.engine.setMode(Date.now(), "attack", "test");
    try {
      const page = await call({ headers: { accept: "text/html" } });
      assert.equal(page.status, 403);
      assert.match(page.text, /<script>/);
      const api = await call({ method: "POST", body: "{}" });
      assert.equal(api.status, 403);
      const { challenge } = JSON.parse(api.text) as { challenge: { nonce: string; bits: number } };
      const { solveChallenge } = await import("../../shield/challenge.js");
      const pass = `${challenge.nonce}~${solveChallenge(challenge.nonce, challenge.bits)}`;
      const through = await call({ method: "POST", body: "{}", headers: { "x-mamori-pass": pass } });
      assert.equal(through.status, 200);
    } finally {
      shield.engine.setMode(Date.now(), "normal", "test over");
    }
  });

  it("reports its counters", async () => {
    const s = shield.stats;
    assert.ok(s.admitted.anonymous >= 3);
    assert.ok(s.challenged >= 2);
    assert.equal(s.mode, "normal");
  });
});
