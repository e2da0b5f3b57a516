import { formatCidr, formatIp, parseCidr, parseIp } from "../../../core/cidr.js";
import type { Mitigation, TrafficMatch } from "../../../flows/mitigation.js";

/**
 * Mitigations as lines of ExaBGP's text API (4.x):
 *
 *   announce route 192.0.2.1/32 next-hop 192.0.2.254 community [65535:666]
 *   announce flow route { match { destination 192.0.2.1/32; protocol =udp; source-port [ =123 ];
 *     packet-length >=256&<=511; } then { discard; } }
 *
 * and the matching withdraw lines (a withdrawal names the same route: the prefix and next hop, or
 * the whole match). Every value is re-parsed and re-rendered here, so text from a stored mitigation
 * can never inject a second command or a stray keyword into ExaBGP's input.
 */
export type ExabgpLines = { readonly announce: string; readonly withdraw: string };

export class ExabgpCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExabgpCommandError";
  }
}

// The names ExaBGP knows; other protocols (ICMPv6 is 58) go by number.
const PROTOCOL_NAMES: Readonly<Record<number, string>> = { 1: "icmp", 6: "tcp", 17: "udp" };
const COMMUNITY = /^(\d{1,5}):(\d{1,5})$/;

function prefix(text: string): { text: string; v6: boolean } {
  const r = parseCidr(text);
  if (!r.ok) throw new ExabgpCommandError(`not a prefix: ${JSON.stringify(text.slice(0, 60))}`);
  return { text: formatCidr(r.value), v6: r.value.family === "ipv6" };
}

function address(text: string): string {
  const r = parseIp(text);
  if (!r.ok) throw new ExabgpCommandError(`not an address: ${JSON.stringify(text.slice(0, 60))}`);
  return formatIp(r.value);
}

function communities(list: readonly string[]): string {
  if (list.length === 0) return "";
  return `community [ ${communityList(list)} ]`;
}

function communityList(list: readonly string[]): string {
  const out = list.map((c) => {
    const m = COMMUNITY.exec(c);
    if (!m || Number(m[1]) > 65535 || Number(m[2]) > 65535) {
      throw new ExabgpCommandError(`not a community: ${JSON.stringify(c.slice(0, 30))}`);
    }
    return `${Number(m[1])}:${Number(m[2])}`;
  });
  return out.join(" ");
}

function int(n: number, max: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new ExabgpCommandError(`bad ${what}: ${n}`);
  return n;
}

/** The `match { ... }` block of a Flowspec rule. */
export function flowMatch(t: TrafficMatch): string {
  const dst = prefix(t.destination);
  const parts = [`destination ${dst.text}`];
  if (t.protocol !== null) {
    const p = int(t.protocol, 255, "protocol");
    // IPv6 Flowspec matches the next header instead of the protocol.
    parts.push(`${dst.v6 ? "next-header" : "protocol"} =${PROTOCOL_NAMES[p] ?? p}`);
  }
  if (t.sourcePorts.length > 0) {
    parts.push(`source-port [ ${t.sourcePorts.map((p) => `=${int(p, 65535, "port")}`).join(" ")} ]`);
  }
  if (t.packetLength) {
    parts.push(
      `packet-length >=${int(t.packetLength.min, 65535, "length")}&<=${int(t.packetLength.max, 65535, "length")}`,
    );
  }
  if (t.synOnly) parts.push("tcp-flags [ =syn ]");
  if (t.fragments) parts.push("fragment [ is-fragment ]");
  return `match { ${parts.join("; ")}; }`;
}

/** The announce and withdraw lines of a BGP mitigation; undefined for one that is not BGP. */
export function exabgpLines(m: Mitigation): ExabgpLines | undefined {
  switch (m.type) {
    case "blackhole": {
      const c = communities(m.communities);
      const route = `route ${prefix(m.prefix).text} next-hop ${address(m.nextHop)}${c ? ` ${c}` : ""}`;
      return { announce: `announce ${route}`, withdraw: `withdraw ${route}` };
    }
    case "flowspec": {
      const match = flowMatch(m.match);
      const then =
        m.action.type === "discard"
          ? "discard;"
          : `rate-limit ${int(m.action.bytesPerSecond, 2 ** 32 - 1, "rate")};`;
      const c = communities(m.communities);
      return {
        announce: `announce flow route { ${match} then { ${then}${c ? ` ${c};` : ""} } }`,
        withdraw: `withdraw flow route { ${match} }`,
      };
    }
    case "nftables":
      return undefined;
  }
}
