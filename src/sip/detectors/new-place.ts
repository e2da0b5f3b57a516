import { networkKey } from "../../core/cidr.js";
import type { PbxGuardSettings } from "../settings.js";
import type { Sink } from "../types.js";
import { DAY, putBounded } from "./common.js";

/** Places an account has logged in from, each with when it was last used (least recent first). */
type State = { networks: Map<string, number>; countries: Map<string, number> };

/** Softphones roam; a few dozen networks per account is plenty, and the least recent goes first. */
const MAX_NETWORKS = 64;
const MAX_COUNTRIES = 32;

/** What a login looked like: new places found, for the guard to arm the compromise watch. */
export type PlaceVerdict = { readonly network: string | undefined; readonly country: string | undefined };

const nothingNew: PlaceVerdict = { network: undefined, country: undefined };

/**
 * Logins from new places: a /24 (or /64) or a country never seen for the account. While the guard
 * learns (the first `learningDays` of its history) places are learned silently. After that, the first
 * login of an account with no known place is flagged but not counted as "new" for the compromise
 * chain: without a baseline, a new employee's phone and a leaked password look the same.
 */
export class NewPlace {
  private readonly states = new Map<string, State>();

  constructor(
    private readonly settings: PbxGuardSettings,
    private readonly geoip: ((ip: string) => string | undefined) | undefined,
  ) {}

  /** Places known from the store, learned before this guard started. */
  seed(account: string, networks: Iterable<string>, countries: Iterable<string>, at: number): void {
    const s = this.stateFor(account);
    for (const n of networks) putBounded(s.networks, n, at, MAX_NETWORKS);
    for (const c of countries) putBounded(s.countries, c.toUpperCase(), at, MAX_COUNTRIES);
  }

  login(account: string, address: string, at: number, historySince: number, sink: Sink): PlaceVerdict {
    const r = this.settings.rules;
    const netRule = r["new-network"];
    const geoRule = r["new-country"];
    const netOn = netRule.mode !== "off";
    const geoOn = geoRule.mode !== "off" && this.geoip !== undefined;
    if (!netOn && !geoOn) return nothingNew;
    const s = this.stateFor(account);
    let network: string | undefined;
    let country: string | undefined;
    const firstNet = s.networks.size === 0;
    const firstCountry = s.countries.size === 0;

    const net = netOn ? networkKey(address, netRule.ipv4Bits, netRule.ipv6Bits) : undefined;
    if (net !== undefined) {
      const known = s.networks.has(net);
      s.networks.delete(net);
      putBounded(s.networks, net, at, MAX_NETWORKS);
      if (!known) {
        sink.learned.push({ account, at, network: net });
        if (at - historySince >= netRule.learningDays * DAY) {
          sink.signals.push({
            type: "flag",
            rule: "new-network",
            flag: "new-network",
            account,
            at,
            message: firstNet
              ? `first login to ${account}, from ${address} (${net})`
              : `login to ${account} from a new network ${net} (${address})`,
            evidence: {
              address,
              network: net,
              firstLogin: firstNet,
              known: [...s.networks.keys()].slice(-6, -1),
            },
          });
          if (!firstNet) network = net;
        }
      }
    }

    const cc = geoOn ? this.geoip?.(address)?.toUpperCase() : undefined;
    if (cc !== undefined && cc !== "") {
      const known = s.countries.has(cc);
      s.countries.delete(cc);
      putBounded(s.countries, cc, at, MAX_COUNTRIES);
      if (!known) {
        sink.learned.push({ account, at, country: cc });
        if (at - historySince >= geoRule.learningDays * DAY) {
          sink.signals.push({
            type: "flag",
            rule: "new-country",
            flag: "new-country",
            account,
            at,
            message: `login to ${account} from ${cc}, a country never seen for it (${address})`,
            evidence: {
              address,
              country: cc,
              firstLogin: firstCountry,
              known: [...s.countries.keys()].slice(0, -1),
            },
          });
          if (!firstCountry) country = cc;
        }
      }
    }
    return network === undefined && country === undefined ? nothingNew : { network, country };
  }

  private stateFor(account: string): State {
    let s = this.states.get(account);
    if (!s) {
      s = { networks: new Map(), countries: new Map() };
      putBounded(this.states, account, s, this.settings.limits.maxAccounts);
    }
    return s;
  }
}
