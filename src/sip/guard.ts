import { CidrSet } from "../core/cidr.js";
import { canonicalIp } from "../core/sip-address.js";
import type { SipEvent } from "../core/sip-events.js";
import { BanBook } from "./ban-book.js";
import { AccountGuessing } from "./detectors/account-guessing.js";
import { CallProbing } from "./detectors/call-probing.js";
import { DAY, HOUR, MINUTE, pruneMap, putBounded } from "./detectors/common.js";
import { Compromise } from "./detectors/compromise.js";
import { Enumeration } from "./detectors/enumeration.js";
import { Floods } from "./detectors/floods.js";
import { NewPlace } from "./detectors/new-place.js";
import { PasswordGuessing } from "./detectors/password-guessing.js";
import { ScannerAgent } from "./detectors/scanner-agent.js";
import { type ResolverStats, SignalResolver } from "./resolve.js";
import { readResponse } from "./responses.js";
import { emptyScannerList, type ScannerList } from "./scanner-list.js";
import { defaultPbxGuardSettings, type PbxGuardSettings } from "./settings.js";
import {
  type AccountFlag,
  type ActiveBan,
  type BanRequest,
  emptyPbxOutcome,
  type PbxFinding,
  type PbxOutcome,
  type Sink,
} from "./types.js";

/**
 * The PBX guard: reads SIP security events (from logs or HEP capture) and decides which source
 * addresses to ban, which accounts to flag, and when to ask the call guard to stop an account's
 * international calls.
 *
 * Pure, like the call guard: time comes from the events, so the same object serves live traffic, a
 * replay of last month's logs and deterministic tests. It returns what should be recorded and done; the
 * nftables action, the store and the webhooks carry it out.
 */
export type PbxGuardOptions = {
  /** Defaults to the shipped settings (`pbxGuardSettingsSchema.parse({})`). */
  readonly settings?: PbxGuardSettings | undefined;
  /** Never banned, whatever they do: the PBX itself, the carrier's SBCs, the office. */
  readonly trusted?: CidrSet | undefined;
  /** Scanner User-Agents (rules/scanner-user-agents.yaml); without it that rule sees nothing. */
  readonly scanners?: ScannerList | undefined;
  /** Country (ISO 3166 alpha-2) of an address, for `new-country`; without it that rule sees nothing. */
  readonly geoip?: ((ip: string) => string | undefined) | undefined;
  /**
   * The call guard's account for a SIP account (extension 100 of Acme → "acme"), so that a login and
   * a call meet in `noteCall`. Identity by default: a carrier's trunk user is the customer's account.
   */
  readonly callAccountOf?: ((sipAccount: string) => string | undefined) | undefined;
  /** Epoch ms where the guard's history starts (the store's oldest record); learning counts from here. */
  readonly historySince?: number | undefined;
};

export type PbxGuardStats = ResolverStats & {
  events: number;
  /** Failed SIP logins seen: the console's password-guessing chart. */
  authFailures: number;
  findings: number;
  bans: number;
};

export class PbxGuard {
  private readonly settings: PbxGuardSettings;
  private readonly trusted: CidrSet;
  private readonly callAccountOf: (sipAccount: string) => string | undefined;
  private readonly bans: BanBook;
  private readonly establishedMs: number;
  private historyStart: number | undefined;
  /** Addresses with a successful login, and when: offices and trunks (see settings.established). */
  private readonly established = new Map<string, number>();
  private readonly resolver: SignalResolver;
  private readonly sink: Sink = { signals: [], learned: [] };

  private readonly passwordGuessing: PasswordGuessing;
  private readonly accountGuessing: AccountGuessing;
  private readonly enumeration: Enumeration;
  private readonly scanner: ScannerAgent;
  private readonly floods: Floods;
  private readonly callProbing: CallProbing;
  private readonly newPlace: NewPlace;
  private readonly compromise: Compromise;

  readonly stats: PbxGuardStats = {
    events: 0,
    authFailures: 0,
    findings: 0,
    bans: 0,
    trusted: 0,
    reported: 0,
    suppressed: 0,
    alreadyBanned: 0,
  };

  constructor(opts: PbxGuardOptions = {}) {
    const s = opts.settings ?? defaultPbxGuardSettings;
    this.settings = s;
    this.trusted = opts.trusted ?? CidrSet.empty;
    this.callAccountOf = opts.callAccountOf ?? ((a) => a);
    this.historyStart = opts.historySince;
    this.establishedMs = s.established.hours * HOUR;
    this.bans = new BanBook(
      s.banLadderMinutes.map((m) => m * MINUTE),
      s.offenceMemoryDays * DAY,
      s.limits.maxSources,
    );
    this.passwordGuessing = new PasswordGuessing(s);
    this.accountGuessing = new AccountGuessing(s);
    this.enumeration = new Enumeration(s);
    this.scanner = new ScannerAgent(s, opts.scanners ?? emptyScannerList);
    this.floods = new Floods(s);
    this.callProbing = new CallProbing(s);
    this.newPlace = new NewPlace(s, opts.geoip);
    this.compromise = new Compromise(s);
    this.resolver = new SignalResolver(s, this.trusted, this.bans, this.stats);
  }

  // ---- remembered state ---------------------------------------------------------------------------

  /** Offences of an address known from the store, so that a restart does not reset its ladder. */
  seedOffences(address: string, count: number, lastAt: number): void {
    const ip = canonicalIp(address)?.ip;
    if (ip) this.bans.seedOffences(ip, count, lastAt);
  }

  /** Networks (`203.0.113.0/24`) and countries an account logged in from before, from the store. */
  seedPlaces(account: string, networks: Iterable<string>, countries: Iterable<string>, at: number): void {
    this.newPlace.seed(account, networks, countries, at);
  }

  /** A ban in force made elsewhere (the store at start, an operator): no second ban while it lasts. */
  applyBan(ban: { address: string; until: number; rule?: string | undefined }): void {
    const ip = canonicalIp(ban.address)?.ip;
    if (ip) this.bans.apply({ address: ip, until: ban.until, rule: ban.rule ?? "operator" });
  }

  /** Lifts a ban; returns false when the guard did not hold one for the address. */
  liftBan(address: string): boolean {
    const ip = canonicalIp(address)?.ip;
    return ip ? this.bans.lift(ip) : false;
  }

  banInForce(address: string, at: number): ActiveBan | undefined {
    const ip = canonicalIp(address)?.ip;
    return ip ? this.bans.inForce(ip, at) : undefined;
  }

  activeBans(at: number): ActiveBan[] {
    return this.bans.list(at);
  }

  offencesOf(address: string, at: number): number {
    const ip = canonicalIp(address)?.ip;
    return ip ? this.bans.offencesOf(ip, at) : 0;
  }

  isTrusted(address: string): boolean {
    return this.trusted.has(address);
  }

  // ---- events ----------------------------------------------------------------------------------------

  ingest(e: SipEvent): PbxOutcome {
    this.stats.events++;
    if (e.type === "sip.auth-failure") this.stats.authFailures++;
    const at = e.at;
    if (this.historyStart === undefined) this.historyStart = at;
    const ip = e.source.ip;
    const sink = this.sink;
    switch (e.type) {
      case "sip.auth-failure": {
        const est = this.isEstablished(ip, at);
        this.scanner.seen(ip, e.userAgent, at, sink);
        // A refusal for load is the PBX protecting itself, not a guess.
        if (e.reason !== "limit") this.failure(ip, e.account, at, est, e.reason);
        if (e.method !== undefined) this.floods.request(ip, e.method, at, est, sink);
        break;
      }
      case "sip.auth-success":
        this.scanner.seen(ip, e.userAgent, at, sink);
        if (e.method !== undefined) this.floods.request(ip, e.method, at, this.isEstablished(ip, at), sink);
        this.success(ip, e.account, at);
        break;
      case "sip.challenge-sent":
        this.scanner.seen(ip, e.userAgent, at, sink);
        if (e.method !== undefined) this.floods.request(ip, e.method, at, this.isEstablished(ip, at), sink);
        break;
      case "sip.request":
        this.scanner.seen(ip, e.userAgent, at, sink);
        this.floods.request(ip, e.method, at, this.isEstablished(ip, at), sink);
        break;
      case "sip.response": {
        const m = readResponse(e);
        if (!m) break;
        if (m.type === "success") this.success(m.client, m.user, at);
        else if (m.type === "failure")
          this.failure(m.client, m.user, at, this.isEstablished(m.client, at), `${e.status} response`);
        else
          this.enumeration.refused(
            m.client,
            m.user,
            at,
            this.isEstablished(m.client, at),
            "404 response",
            sink,
          );
        break;
      }
      case "sip.call-rejected":
        this.scanner.seen(ip, e.userAgent, at, sink);
        this.callProbing.rejected(ip, e.to, at, this.isEstablished(ip, at), sink);
        break;
      case "sip.rate-limited":
        this.scanner.seen(ip, e.userAgent, at, sink);
        this.floods.limited(ip, e.limiter, at, sink);
        break;
    }
    return this.flush();
  }

  /**
   * A call placed by an account (the call guard's account id), so that a suspicious login followed by an
   * international call completes the compromise chain.
   */
  noteCall(account: string, at: number, international: boolean): PbxOutcome {
    this.compromise.call(account, at, international, this.sink);
    return this.flush();
  }

  /** Moves the guard's clock: bans and watches expire, idle state is forgotten. */
  tick(now: number): PbxOutcome {
    this.bans.expire(now);
    this.passwordGuessing.prune(now);
    this.accountGuessing.prune(now);
    this.enumeration.prune(now);
    this.floods.prune(now);
    this.callProbing.prune(now);
    this.compromise.prune(now);
    pruneMap(this.established, (t) => now - t > this.establishedMs);
    this.resolver.prune(now);
    return this.flush();
  }

  // ---- internals -------------------------------------------------------------------------------------

  private failure(ip: string, account: string | undefined, at: number, est: boolean, via: string): void {
    const sink = this.sink;
    // Enumeration first: when a scan of names also trips the failure count, the ban says what it was.
    if (account !== undefined) this.enumeration.refused(ip, account, at, est, via, sink);
    this.passwordGuessing.failure(ip, at, account, est, sink);
    if (account !== undefined) this.accountGuessing.failure(account, ip, at, est, sink);
    this.compromise.failure(ip, account, at);
  }

  private success(ip: string, account: string | undefined, at: number): void {
    const sink = this.sink;
    if (account === undefined) {
      putBounded(this.established, ip, at, this.settings.limits.maxSources);
      return;
    }
    this.accountGuessing.success(account, ip);
    const suspicious = this.compromise.success(ip, account, at, sink);
    // A password that was just guessed does not make its user's address a trusted office.
    if (!suspicious) putBounded(this.established, ip, at, this.settings.limits.maxSources);
    const place = this.newPlace.login(account, ip, at, this.historyStart ?? at, sink);
    const callAccount = this.callAccountOf(account);
    if (callAccount === undefined) return;
    if (suspicious)
      this.compromise.arm(account, callAccount, at, "a login after failures", { loginAddress: ip });
    if (this.settings.rules["pbx-compromise"].armOnNewPlace) {
      if (place.network !== undefined)
        this.compromise.arm(account, callAccount, at, "a login from a new network", {
          loginAddress: ip,
          network: place.network,
        });
      if (place.country !== undefined)
        this.compromise.arm(account, callAccount, at, "a login from a new country", {
          loginAddress: ip,
          country: place.country,
        });
    }
  }

  private isEstablished(ip: string, at: number): boolean {
    const t = this.established.get(ip);
    return t !== undefined && at - t <= this.establishedMs;
  }

  /** Turns the detectors' signals into findings, bans and flags, and empties the sink. */
  private flush(): PbxOutcome {
    const sink = this.sink;
    if (sink.signals.length === 0 && sink.learned.length === 0) return emptyPbxOutcome;
    const findings: PbxFinding[] = [];
    const bans: BanRequest[] = [];
    const accountFlags: AccountFlag[] = [];
    for (const sig of sink.signals) this.resolver.resolve(sig, findings, bans, accountFlags);
    const learned = sink.learned.slice();
    sink.signals.length = 0;
    sink.learned.length = 0;
    this.stats.findings += findings.length;
    this.stats.bans += bans.length;
    return { findings, bans, accountFlags, learned };
  }
}
