import { CidrSet, networkKey } from "../core/cidr.js";
import { AbuseBook } from "./abuse.js";
import { AdaptiveLimit } from "./adaptive-limit.js";
import { Admission } from "./admission.js";
import { AnonymousLimits } from "./anonymous-limits.js";
import { AttackMonitor } from "./attack-monitor.js";
import { issueChallenge, verifyPass } from "./challenge.js";
import { resolveClient } from "./client-identity.js";
import { type RouteInfo, RouteTable } from "./routes.js";
import type { ShieldSettings } from "./settings.js";
import { TokenSigner } from "./signed-token.js";
import { BucketMap } from "./token-bucket.js";
import type {
  AnswerHeaders,
  ClientClass,
  Decision,
  Drained,
  ModeChange,
  Outcome,
  RequestContext,
  RequestFacts,
  ShieldEvent,
  ShieldMode,
  Started,
} from "./types.js";

/**
 * The billing shield's decisions, pure and in event time: who the client is, its class, whether it must
 * pass a challenge, its rate limits, and admission to the upstream under the adaptive limit. The gateway
 * feeds it facts and carries out its answers; every mode change, ban and alert is queued as an event.
 */
const CUSTOMER_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

export class ShieldEngine {
  readonly settings: ShieldSettings;
  private readonly trusted: CidrSet;
  private readonly known: CidrSet;
  private readonly neverBan: CidrSet;
  private readonly signer: TokenSigner;
  private readonly routes: RouteTable;
  private readonly limiter: AdaptiveLimit;
  private readonly admission: Admission;
  private readonly monitor: AttackMonitor;
  private readonly abuse: AbuseBook;
  private readonly anonymous: AnonymousLimits;
  private readonly clients: BucketMap;
  private readonly tickets = new Map<number, { cls: ClientClass; inflight: number; started: boolean }>();
  private events: ShieldEvent[] = [];

  constructor(
    settings: ShieldSettings,
    private readonly opts: { readonly secrets: readonly string[]; readonly newId: () => string },
  ) {
    this.settings = settings;
    const cidrs = (list: readonly string[]) => {
      const r = CidrSet.parse(list);
      if (!r.ok) throw new RangeError(`shield: ${r.error.message}`);
      return r.value;
    };
    this.trusted = cidrs(settings.trustedProxies);
    this.known = cidrs(settings.knownClients);
    this.neverBan = cidrs(settings.neverBan);
    this.signer = new TokenSigner(opts.secrets.length > 0 ? opts.secrets : settings.secrets);
    this.routes = new RouteTable(settings.routes, settings.defaultCriticality);
    this.limiter = new AdaptiveLimit(settings.concurrency);
    this.admission = new Admission(
      { reserved: settings.reserved, maxShare: settings.maxShare, queues: settings.queues },
      this.limiter.limit,
    );
    const l = settings.limits;
    this.monitor = new AttackMonitor({ ...settings.attack, prefixCapacity: l.prefixes });
    const b = settings.bans;
    this.abuse = new AbuseBook({
      ...b,
      unsolvedLimit: settings.challenge.unsolvedLimit,
      capacity: l.addresses,
    });
    this.clients = new BucketMap(l.clients);
    this.anonymous = new AnonymousLimits(settings.anonymous, l, this.clients);
  }

  get mode(): ShieldMode {
    return this.monitor.mode;
  }

  decide(at: number, f: RequestFacts): Decision {
    const s = this.settings;
    const who = resolveClient(f.peer, f.forwarded, s.forwardedHeader, this.trusted);
    if (!who.ok) return { type: "invalid", message: who.error };
    const client = who.value;
    const addr = client.text;
    const prefix =
      networkKey(client.address, s.anonymous.prefixBits.ipv4, s.anonymous.prefixBits.ipv6) ?? addr;
    const route = this.routes.match(f.method, f.path);
    const peerTrusted = client.via === "forwarded" || (this.trusted.size > 0 && this.trusted.has(f.peer));
    let customerId: string | undefined;
    let sessionEnds = 0;
    const ctx = (): RequestContext => ({ client, prefix, peerTrusted, route, customerId, sessionEnds });

    const ban = this.abuse.banned(at, addr);
    if (ban)
      return {
        type: "shed",
        cls: "suspicious",
        status: 403,
        reason: "banned",
        retryAfterS: secs(ban.until - at),
        ctx: ctx(),
      };

    if (f.customerToken !== undefined) {
      const c = this.signer.verify(f.customerToken, "c", "", at);
      if (c.ok) {
        customerId = c.value.subject;
        sessionEnds = c.value.expiresAt;
      } else if (c.error === "bad-signature")
        this.strike(at, addr, 1, "shield-forged-token", "a forged session cookie");
    }
    if (customerId === undefined && this.known.has(client.address)) customerId = `known:${addr}`;
    if (
      f.transactionToken !== undefined &&
      route.transaction === "step" &&
      route.criticality === "critical"
    ) {
      const t = this.signer.verify(f.transactionToken, "t", this.txnBinding(customerId, prefix), at);
      if (t.ok) {
        this.monitor.remember(addr);
        return this.admit(at, "transaction", `t:${t.value.subject}`, s.transaction.rate, route, ctx());
      }
      if (t.error === "bad-signature")
        this.strike(at, addr, 1, "shield-forged-token", "a forged transaction token");
    }
    if (customerId !== undefined) {
      this.monitor.remember(addr);
      return this.admit(at, "customer", `c:${customerId}`, s.customer.rate, route, ctx());
    }

    // Unknown client: network, address and pass limits, challenge under attack.
    let passId: string | undefined;
    let failed = false;
    if (f.pass !== undefined) {
      const p = verifyPass(this.signer, f.pass, prefix, s.challenge.bits, at);
      if (p.ok) passId = p.value.id;
      else if (p.error === "unsolved") {
        // A nonce of ours with a made-up answer: someone trying to skip the work. A pass from another
        // network or an old key is only stale (a phone that moved) and gets a new challenge.
        failed = true;
        this.strike(at, addr, 5, "shield-failed-challenge", "a challenge answer without the work");
      }
    }
    const cls: ClientClass =
      passId === undefined && (failed || this.abuse.isSuspicious(at, addr)) ? "suspicious" : "anonymous";
    this.noteMode(this.monitor.observe(at, addr, prefix));
    const attack = this.monitor.mode === "attack";
    const over = this.anonymous.check(at, addr, prefix, passId, attack ? s.attack.anonymousRateFactor : 1);
    if (over) {
      this.strike(at, addr, 1, "shield-rate", `over the anonymous ${over.reason.replace("-", " ")} limit`);
      return {
        type: "shed",
        cls,
        status: 429,
        reason: over.reason,
        retryAfterS: secs(over.waitMs),
        ctx: ctx(),
      };
    }
    if (passId === undefined && attack && s.challenge.enabled && route.challenge) {
      if (this.abuse.challenged(at, addr))
        this.strike(at, addr, 1, "shield-unsolved", "challenges left unsolved");
      const expires = at + s.challenge.passMinutes * 60_000;
      const nonce = issueChallenge(this.signer, this.opts.newId(), prefix, expires);
      return { type: "challenge", cls, nonce, bits: s.challenge.bits, ctx: ctx() };
    }
    return this.enter(at, cls, route, ctx());
  }

  /** An upstream answer (or failure) for a forwarded ticket; returns queued requests that may start. */
  complete(at: number, ticket: number, rttMs: number, outcome: Outcome): Drained {
    const t = this.tickets.get(ticket);
    if (t?.started) {
      this.tickets.delete(ticket);
      this.admission.release(t.cls);
      if (outcome !== "error" && this.limiter.onSample(at, rttMs, t.inflight, outcome === "overload")) {
        this.admission.setLimit(this.limiter.limit, this.limiter.knee);
      }
      this.noteMode(this.monitor.answer(at, outcome === "overload"));
    }
    return this.drain(at);
  }

  /** The client went away before its request finished (queued or forwarded). */
  abandon(at: number, ticket: number): Drained {
    const t = this.tickets.get(ticket);
    if (t) {
      this.tickets.delete(ticket);
      if (t.started) this.admission.release(t.cls);
      else this.admission.cancel(t.cls, ticket);
    }
    return this.drain(at);
  }

  /** Call a few times a second: closes traffic seconds, starts or expires queued requests. */
  tick(at: number): Drained {
    this.noteMode(this.monitor.tick(at));
    return this.drain(at);
  }

  /**
   * Cookies and headers for the client from the backend's answer: a customer mark becomes (or ends) a
   * gateway session; a 2xx at a transaction's first step issues its token.
   */
  answerHeaders(at: number, ctx: RequestContext, status: number, mark: string | undefined): AnswerHeaders {
    const s = this.settings;
    const setCookie: string[] = [];
    let customerId = ctx.customerId;
    if (mark !== undefined) {
      const v = mark.trim();
      if (v === "-") {
        setCookie.push(this.cookie(s.cookies.customer, "", 0));
        customerId = undefined;
      } else if (
        CUSTOMER_ID.test(v) &&
        (v !== ctx.customerId || ctx.sessionEnds - at < (s.customer.sessionMinutes * 60_000) / 2)
      ) {
        // A backend may mark every answer: the cookie is renewed only past half its life, which spares
        // an HMAC and a header on most answers.
        const maxAge = s.customer.sessionMinutes * 60;
        setCookie.push(
          this.cookie(s.cookies.customer, this.signer.sign("c", v, "", at + maxAge * 1000), maxAge),
        );
        customerId = v;
      }
    }
    let transactionToken: string | undefined;
    if (ctx.route.transaction === "begin" && status >= 200 && status < 300) {
      const maxAge = s.transaction.tokenMinutes * 60;
      const binding = this.txnBinding(customerId, ctx.prefix);
      transactionToken = this.signer.sign("t", this.opts.newId(), binding, at + maxAge * 1000);
      setCookie.push(this.cookie(s.cookies.transaction, transactionToken, maxAge));
    }
    return { setCookie, transactionToken };
  }

  /** True while the address is banned here (the gateway drops its connections at once). */
  isBanned(at: number, address: string): boolean {
    return this.abuse.banned(at, address) !== undefined;
  }

  /** An operator lifted a ban (DELETE /v1/bans/{id}); the address is served again at once. */
  liftBan(address: string): boolean {
    return this.abuse.lift(address);
  }

  /** An operator's word on the mode. */
  setMode(at: number, mode: ShieldMode, reason: string): void {
    this.noteMode(this.monitor.force(at, mode, reason));
  }

  drainEvents(): ShieldEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  stats() {
    const a = this.admission;
    const per = (f: (c: ClientClass) => number) => ({
      transaction: f("transaction"),
      customer: f("customer"),
      anonymous: f("anonymous"),
      suspicious: f("suspicious"),
    });
    return {
      mode: this.monitor.mode,
      limit: a.limit,
      knee: a.knee,
      inflight: a.inflight,
      inflightByClass: per((c) => a.inflightOf(c)),
      queuedByClass: per((c) => a.queuedOf(c)),
      latencyMs: { baseline: this.limiter.baselineMs, recent: this.limiter.recentMs },
      traffic: { last: this.monitor.last, baseline: { ...this.monitor.base } },
      activeBans: this.abuse.activeBans,
    };
  }

  private admit(
    at: number,
    cls: ClientClass,
    key: string,
    rate: { perSecond: number; burst: number },
    route: RouteInfo,
    ctx: RequestContext,
  ): Decision {
    if (!this.clients.take(key, at, rate.perSecond, rate.burst)) {
      const wait = this.clients.waitMs(key, at, rate.perSecond, rate.burst);
      return { type: "shed", cls, status: 429, reason: "client-rate", retryAfterS: secs(wait), ctx };
    }
    return this.enter(at, cls, route, ctx);
  }

  /** Admission proper; background routes queue one class lower than their client. */
  private enter(at: number, client: ClientClass, route: RouteInfo, ctx: RequestContext): Decision {
    const cls: ClientClass =
      route.criticality !== "background"
        ? client
        : client === "transaction"
          ? "customer"
          : client === "customer"
            ? "anonymous"
            : "suspicious";
    const r = this.admission.tryAdmit(at, cls);
    if (r.type === "shed") {
      const retryAfterS = this.settings.retryAfterSeconds[cls];
      return { type: "shed", cls, status: 503, reason: r.reason, retryAfterS, ctx };
    }
    this.tickets.set(r.ticket, { cls, inflight: this.admission.inflight, started: r.type === "forward" });
    return r.type === "forward"
      ? { type: "forward", cls, ticket: r.ticket, ctx }
      : { type: "queue", cls, ticket: r.ticket, deadline: r.deadline, ctx };
  }

  private drain(at: number): Drained {
    const expired: Started[] = [];
    const started = this.admission.drain(at, expired);
    for (const s of started) {
      const t = this.tickets.get(s.ticket);
      if (t) {
        t.started = true;
        t.inflight = this.admission.inflight;
      } else this.admission.release(s.cls); // abandoned while queued but not yet cancelled
    }
    for (const e of expired) this.tickets.delete(e.ticket);
    return { started, expired };
  }

  private txnBinding(customerId: string | undefined, prefix: string): string {
    return customerId !== undefined ? `c:${customerId}` : `n:${prefix}`;
  }

  private cookie(name: string, value: string, maxAgeS: number): string {
    const secure = this.settings.cookies.secure ? "; Secure" : "";
    return `${name}=${value}; Path=/; Max-Age=${maxAgeS}; HttpOnly; SameSite=Lax${secure}`;
  }

  private strike(at: number, address: string, weight: number, rule: string, reason: string): void {
    if (!this.abuse.strike(at, address, weight)) return;
    const b = this.settings.bans;
    if (b.mode === "off" || (b.onlyUnderAttack && this.monitor.mode !== "attack")) return;
    if (this.neverBan.has(address) || this.trusted.has(address) || this.known.has(address)) return;
    if (this.abuse.banned(at, address)) return;
    if (b.mode === "report") {
      this.events.push({
        type: "alert",
        alert: {
          at,
          rule,
          severity: "warning",
          subject: address,
          message: `would ban ${address}: ${reason}`,
          evidence: {},
        },
      });
      return;
    }
    const durationMs = this.abuse.ban(at, address, rule);
    this.events.push({ type: "ban", ban: { address, at, rule, reason, durationMs } });
  }

  private noteMode(change: ModeChange | undefined): void {
    if (!change) return;
    this.admission.setAttack(change.to === "attack");
    this.events.push({ type: "mode-change", change });
  }
}

function secs(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
