import { z } from "zod";
import { parseCidr } from "../core/cidr.js";
import { CRITICALITIES } from "./types.js";

/**
 * The billing shield's settings. Every key has a shipped default, so `shieldSettingsSchema.parse({})`
 * is a working shield in front of a billing API that uses the default route names; a config file names
 * only what it changes, and an unknown key is an error (a typo must not leave a default in force).
 */
const int = (min: number, max: number) => z.number().int().min(min).max(max);
const share = z.number().min(0).max(1);
const rate = z.number().positive().max(1_000_000);
const cidr = z
  .string()
  .refine((s) => parseCidr(s).ok, { error: "must be an IPv4 or IPv6 address or prefix" });
const bucket = (perSecond: number, burst: number) =>
  z
    .strictObject({ perSecond: rate.default(perSecond), burst: int(1, 10_000_000).default(burst) })
    .prefault({});
const queue = (length: number, timeoutMs: number) =>
  z
    .strictObject({ length: int(0, 100_000).default(length), timeoutMs: int(0, 600_000).default(timeoutMs) })
    .prefault({});
const cookieName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: "letters, digits, _ and - only" });
const headerName = z.string().regex(/^[a-z0-9-]{1,64}$/, { error: "lower-case letters, digits and - only" });

const route = z.strictObject({
  /** An HTTP method in capitals, or `*` for any. */
  method: z
    .string()
    .regex(/^(\*|[A-Z]{1,16})$/)
    .default("*"),
  /**
   * A path pattern: literal segments, `*` for exactly one segment, and a final `**` for any number of
   * segments (also none). `/payments/**` matches `/payments` and `/payments/a/b`. The first matching
   * route wins; the query string is not part of the match.
   */
  path: z.string().regex(/^\/[^?#\s]*$/, { error: "a path starting with / and without query" }),
  criticality: z.enum(CRITICALITIES).default("normal"),
  /**
   * `begin`: a 2xx answer starts a transaction, and the gateway issues a signed transaction token
   * (cookie and response header). `step`: a request carrying a valid token is in the `transaction`
   * class here, if the route is also `critical`.
   */
  transaction: z.enum(["none", "begin", "step"]).default("none"),
  /**
   * Unknown clients may be challenged here under attack. Turn off for routes that programs call
   * without a browser (payment-provider callbacks); they then rely on rate limits and partitions.
   */
  challenge: z.boolean().default(true),
});

export const shieldSettingsSchema = z
  .strictObject({
    /**
     * Peers whose X-Forwarded-For / Forwarded is believed (load balancers, TLS terminators). Every other
     * peer is the client itself, whatever it writes in those headers. Keying limits on a proxy's own
     * address is the classic self-inflicted outage: list every proxy in front of the shield here.
     */
    trustedProxies: z.array(cidr).max(10_000).default([]),
    /** Which header the trusted proxies write: the de facto X-Forwarded-For or RFC 7239 Forwarded. */
    forwardedHeader: z.enum(["x-forwarded-for", "forwarded"]).default("x-forwarded-for"),
    /**
     * Sources served as logged-in customers without a session (payment providers' callback servers,
     * the carrier's own systems). They are never challenged nor banned.
     */
    knownClients: z.array(cidr).max(10_000).default([]),
    /** Addresses that are never banned (operators' networks, monitoring); trusted proxies never are. */
    neverBan: z.array(cidr).max(10_000).default([]),
    /**
     * HMAC keys for the tokens the gateway issues (sessions, transactions, challenge passes), at least
     * 32 characters. The first signs; all verify, so a key is rotated by putting the new one first and
     * dropping the old one after the longest token lifetime. Empty: the gateway makes a random key at
     * start (tokens then do not survive a restart nor work across instances).
     */
    secrets: z.array(z.string().min(32).max(512)).max(8).default([]),
    cookies: z
      .strictObject({
        /** The customer-session cookie the gateway sets when the backend marks a customer. */
        customer: cookieName.default("mamori_c"),
        /** The transaction-token cookie set at a transaction's first step. */
        transaction: cookieName.default("mamori_t"),
        /** The challenge-pass cookie the challenge page sets. */
        pass: cookieName.default("mamori_p"),
        /** Add `Secure` to the cookies: on whenever clients reach the service over HTTPS. */
        secure: z.boolean().default(false),
      })
      .prefault({}),
    customer: z
      .strictObject({
        /**
         * The response header by which the backend marks a logged-in customer in good standing: its value
         * is the customer id (letters, digits, `._:@-`, up to 128). The gateway removes the header, sets
         * its signed cookie and from then on serves that client as `customer`. The value `-` ends it
         * (logout, or a customer the backend no longer vouches for).
         */
        markHeader: headerName.default("x-mamori-customer"),
        /** How long a customer session lasts without a new mark. */
        sessionMinutes: int(1, 43_200).default(720),
        /** Per-customer rate: a stolen session shared by a botnet gets no more than one customer. */
        rate: bucket(20, 60),
      })
      .prefault({}),
    transaction: z
      .strictObject({
        /** The response header that carries the transaction token to non-browser clients. */
        header: headerName.default("x-mamori-transaction"),
        /** A transaction token's lifetime: the longest a payment may take from its first step. */
        tokenMinutes: int(1, 1440).default(15),
        /** Per-transaction rate. */
        rate: bucket(5, 20),
      })
      .prefault({}),
    anonymous: z
      .strictObject({
        /** Per source address. */
        perAddress: bucket(10, 40),
        /** Per network (/prefixBits.ipv4, /prefixBits.ipv6): a host that rotates addresses in its subnet. */
        perPrefix: bucket(50, 150),
        /** Per challenge pass, so one solved pass shared inside a network gets no more than one client. */
        perPass: bucket(10, 40),
        /** The network of an address for `perPrefix` and for binding challenge passes. */
        prefixBits: z
          .strictObject({ ipv4: int(8, 32).default(24), ipv6: int(16, 128).default(64) })
          .prefault({}),
      })
      .prefault({}),
    /** The route table: the first match gives criticality, transaction role and whether to challenge. */
    routes: z
      .array(route)
      .max(1000)
      .default([
        {
          method: "POST",
          path: "/checkout/**",
          criticality: "critical",
          transaction: "begin",
          challenge: true,
        },
        {
          method: "POST",
          path: "/payments/**",
          criticality: "critical",
          transaction: "step",
          challenge: true,
        },
        { method: "*", path: "/static/**", criticality: "background", transaction: "none", challenge: true },
      ]),
    /** Criticality of a route that matches no entry. */
    defaultCriticality: z.enum(CRITICALITIES).default("normal"),
    /** The adaptive concurrency limit on the upstream (see adaptive-limit.ts). */
    concurrency: z
      .strictObject({
        /** Where the limit starts, before any latency is measured. */
        initialLimit: int(1, 100_000).default(20),
        /** The limit never goes below this, however slow the backend gets. */
        minLimit: int(1, 100_000).default(2),
        /** Nor above this, however fast it is. */
        maxLimit: int(1, 100_000).default(1000),
        /**
         * Latency allowed over the best recent latency before the limit shrinks: 1.25 lets the backend's
         * own queue hold about a quarter of its capacity. Raise it for backends with noisy latency.
         */
        tolerance: z.number().min(1).max(10).default(1.25),
        /** Share of the new estimate taken at each update: lower is steadier, higher reacts faster. */
        smoothing: z.number().min(0.01).max(1).default(0.3),
        /** A measurement window lasts at least this long and holds at least `windowSamples` answers. */
        windowMs: int(10, 60_000).default(250),
        /** Answers a window needs before it counts (see windowMs). */
        windowSamples: int(1, 10_000).default(8),
        /** The best-latency reference is the lowest window average over this time. */
        baselineWindowMs: int(1000, 3_600_000).default(60_000),
        /** Share kept after a window with upstream errors or time-outs (502, 503, 504). */
        backoff: z.number().min(0.1).max(1).default(0.9),
        /** How often a busy limit is halved briefly to see the backend's latency without a queue. */
        probeEveryMs: int(1000, 3_600_000).default(15_000),
        /**
         * Latency under this is never read as overload: for a backend that answers in a millisecond the
         * differences are the gateway's own event loop, and the limit would shrink for nothing.
         */
        latencyFloorMs: z.number().min(0).max(60_000).default(5),
      })
      .prefault({}),
    /**
     * Capacity reserved per class, as shares of the current limit (together at most 1). A class below
     * its reservation starts at once even when the limit is reached; above it, it only gets what is
     * spare (total under the limit, no higher class waiting). Idle reservations are lent to everyone.
     */
    reserved: z
      .strictObject({
        /** Payment steps with a transaction token. */
        transaction: share.default(0.3),
        /** Logged-in customers. */
        customer: share.default(0.4),
        /** Unknown clients (and challenge passes). */
        anonymous: share.default(0.1),
        /** Clients with bad history: nothing kept for them. */
        suspicious: share.default(0),
      })
      .prefault({})
      .refine((r) => r.transaction + r.customer + r.anonymous + r.suspicious <= 1, {
        error: "the reserved shares add up to more than 1",
      }),
    /** Most of the limit a class may hold at once (transactions and customers are never capped). */
    maxShare: z
      .strictObject({
        /** In normal mode: anonymous traffic may fill what is spare, suspicious a tenth. */
        normal: z.strictObject({ anonymous: share.default(1), suspicious: share.default(0.1) }).prefault({}),
        /** Under attack: anonymous traffic (challenge passes) at most 30%, suspicious none. */
        attack: z.strictObject({ anonymous: share.default(0.3), suspicious: share.default(0) }).prefault({}),
      })
      .prefault({}),
    /**
     * A short queue per class (`length` requests, `timeoutMs` deadline); a request still waiting at its
     * deadline is shed with 503, one arriving at a full queue at once.
     */
    queues: z
      .strictObject({
        /** A payment step may wait longest: it is the one that must not be lost. */
        transaction: queue(500, 5000),
        customer: queue(500, 3000),
        /** Short: under a flood, a long anonymous queue only stores the flood. */
        anonymous: queue(50, 500),
        /** None: suspicious requests run on spare capacity or not at all. */
        suspicious: queue(0, 0),
      })
      .prefault({}),
    /** Retry-After, in seconds, on a capacity shed, per class (rate-limit sheds say when a token is back). */
    retryAfterSeconds: z
      .strictObject({
        /** Soon: the payment is under way. */
        transaction: int(1, 3600).default(1),
        customer: int(1, 3600).default(2),
        /** Later: spreads retries of unknown clients over time. */
        anonymous: int(1, 3600).default(10),
        suspicious: int(1, 3600).default(60),
      })
      .prefault({}),
    attack: z
      .strictObject({
        /**
         * Attack mode starts after `enterSeconds` seconds in a row of unknown traffic (anonymous and
         * suspicious requests) at `rateFactor` × its baseline, or at `2 ×` with new clients or source
         * networks far above their baselines, or of upstream errors above `errorShare`; always at least
         * `minRps` requests/s. Logged-in customers never count: a flash crowd of them is not an attack.
         */
        enterSeconds: int(1, 600).default(3),
        /**
         * Enter at once, without waiting for `enterSeconds`, when the unknown requests of the last
         * second already reach this many times the rate that makes a second hot (`rateFactor` × the
         * baseline, at least `minRps`) and most of them come from clients never seen before: a
         * botnet's onset. 0 turns the fast entry off.
         */
        fastFactor: z.number().min(0).max(1000).default(3),
        /** Rate, as a multiple of the baseline, that is an attack on its own. */
        rateFactor: z.number().min(1.5).max(1000).default(4),
        /** Below this many unknown requests/s nothing is an attack (small sites, quiet hours). */
        minRps: z.number().min(0).max(1_000_000).default(20),
        /** New-client share above baseline share + this, at twice the baseline rate. */
        newClientJump: share.default(0.3),
        /** Distinct source networks per second at this multiple of baseline, at twice the baseline rate. */
        spreadFactor: z.number().min(1).max(1000).default(4),
        /** Share of upstream answers that are 502/503/504 or time-outs (with at least minRps). */
        errorShare: share.default(0.3),
        /** Leaves after `exitSeconds` in a row below `exitFactor` × baseline, no sooner than `minSeconds`. */
        exitSeconds: int(1, 3600).default(30),
        /** Calm means under this multiple of the baseline (lower than rateFactor: hysteresis). */
        exitFactor: z.number().min(1).max(1000).default(2),
        /** Attack mode lasts at least this long, so a pulsing attack does not flap it. */
        minSeconds: int(0, 86_400).default(60),
        /**
         * The first seconds after start only teach the baseline (their median is where it starts):
         * without it, the first normal traffic would look like a flood against a baseline of nothing.
         */
        learnSeconds: int(0, 86_400).default(30),
        /** Baselines follow normal traffic with this half-life; they stand still under attack. */
        baselineHalfLifeMinutes: z.number().min(0.1).max(10_080).default(10),
        /** The baseline is never taken below this many unknown requests/s (a quiet night is not a norm). */
        minBaselineRps: z.number().min(0).max(1_000_000).default(5),
        /** Anonymous per-address and per-network rates are multiplied by this under attack. */
        anonymousRateFactor: z.number().min(0.01).max(1).default(0.25),
        /** Clients remembered for the new-client share; past it the oldest are forgotten. */
        knownClients: int(100, 10_000_000).default(100_000),
      })
      .prefault({}),
    challenge: z
      .strictObject({
        /** Under attack, unknown clients must pass a challenge before anything is forwarded. */
        enabled: z.boolean().default(true),
        /**
         * Proof-of-work bits: the page's script searches for a number whose SHA-256 together with the
         * challenge starts with this many zero bits (2^bits tries on average; 16 is well under a second
         * in a browser). 0 makes it a plain script-set cookie.
         */
        bits: int(0, 28).default(16),
        /** How long a solved challenge (the pass) lasts; the pass is bound to the client's network. */
        passMinutes: int(1, 1440).default(30),
        /** Challenges answered without a pass before the address counts as suspicious. */
        unsolvedLimit: int(1, 10_000).default(20),
      })
      .prefault({}),
    bans: z
      .strictObject({
        /** `enforce` bans (and refuses in-process), `report` only alerts, `off` does neither. */
        mode: z.enum(["enforce", "report", "off"]).default("enforce"),
        /** Bans only in attack mode: outside an attack a noisy client is rate-limited, not banned. */
        onlyUnderAttack: z.boolean().default(true),
        /** Strikes (refusals for rate, unsolved challenges, forged tokens) in `windowSeconds` that ban. */
        strikes: int(1, 1_000_000).default(30),
        /** The strike allowance refills over this time. */
        windowSeconds: int(1, 3600).default(60),
        /** Ban length for an address's 1st, 2nd, 3rd … ban; the last step repeats. */
        ladderMinutes: z.array(int(1, 525_600)).min(1).max(16).default([10, 60, 1440]),
        /** An address's ban count starts again after this many hours without one. */
        memoryHours: int(1, 8760).default(24),
      })
      .prefault({}),
    /** The gateway's listening side: limits against slow and oversized requests. */
    server: z
      .strictObject({
        /** Time for a client to send the request line and headers (slowloris is cut here). */
        headersTimeoutMs: int(500, 600_000).default(10_000),
        /** Time for the whole request including its body, from the first byte (slow POST). */
        requestTimeoutMs: int(500, 3_600_000).default(20_000),
        /** An idle keep-alive connection is closed after this. */
        keepAliveTimeoutMs: int(100, 600_000).default(5000),
        /** A connection with no traffic at all for this long is closed (also one stuck mid-response). */
        idleTimeoutMs: int(500, 3_600_000).default(30_000),
        /** Request line and headers together; larger gets 431 and a closed connection. */
        maxHeaderBytes: int(1024, 1_048_576).default(16_384),
        /** Request bodies larger than this get 413 (billing requests are small). */
        maxBodyBytes: int(0, 1_073_741_824).default(1_048_576),
        /** Open connections in all; past it new ones are closed at accept. */
        maxConnections: int(1, 10_000_000).default(20_000),
        /** Open connections per client address; a trusted proxy gets `maxConnectionsPerProxy`. */
        maxConnectionsPerAddress: int(1, 1_000_000).default(64),
        /** A trusted proxy carries many clients on its connections. */
        maxConnectionsPerProxy: int(1, 10_000_000).default(10_000),
        /**
         * Listen backlog: connections the kernel holds before the gateway accepts them. A flood opens
         * thousands at once; a short backlog drops customers' handshakes too (capped by somaxconn).
         */
        backlog: int(1, 65_535).default(4096),
      })
      .prefault({}),
    /** The billing API behind the gateway. */
    upstream: z
      .strictObject({
        /**
         * Keep-alive connections to the backend, opened as needed: at least twice `concurrency.maxLimit`,
         * since reservations may take a class briefly over the limit.
         */
        connections: int(1, 100_000).default(2048),
        /** Time for the backend to start answering; past it the client gets 504 and the limit drops. */
        timeoutMs: int(100, 3_600_000).default(15_000),
        /**
         * Answers up to this size are read whole before the client gets them, so a slow reader holds no
         * backend capacity; larger ones are streamed.
         */
        bufferBytes: int(0, 1_073_741_824).default(1_048_576),
      })
      .prefault({}),
    /** Memory bounds: per-address, per-network and per-client state; the oldest entries go first. */
    limits: z
      .strictObject({
        /** Source addresses (rate buckets, strikes, bans). */
        addresses: int(100, 10_000_000).default(200_000),
        /** Source networks (rate buckets, the spread signal). */
        prefixes: int(100, 10_000_000).default(50_000),
        /** Customers, transactions and challenge passes (rate buckets). */
        clients: int(100, 10_000_000).default(200_000),
      })
      .prefault({}),
  })
  .prefault({});

export type ShieldSettings = z.output<typeof shieldSettingsSchema>;
/** What a config file may give: any subset of the settings. */
export type ShieldSettingsInput = z.input<typeof shieldSettingsSchema>;
export type RouteSetting = ShieldSettings["routes"][number];

export const defaultShieldSettings: ShieldSettings = shieldSettingsSchema.parse({});
