import { type CidrSet, formatIp, type IpAddress, parseIp } from "../core/cidr.js";
import { err, ok, type Result } from "../core/result.js";

/**
 * Who the client is. The socket's peer is the client, unless the peer is one of the operator's trusted
 * proxies: then the forwarding header is read from the right, skipping hops that are themselves trusted
 * proxies, and the first untrusted hop is the client. Everything left of it was written by the client
 * and proves nothing, which is why the leftmost X-Forwarded-For entry is never taken on its own word.
 */
export type ClientIdentity = {
  readonly address: IpAddress;
  /** Canonical text of the address, the key for limits and bans. */
  readonly text: string;
  /** `socket`: the peer itself; `forwarded`: read from the header a trusted proxy appended to. */
  readonly via: "socket" | "forwarded";
  /** The header was unreadable at the hop where the walk stopped; the nearest trusted hop was taken. */
  readonly malformed: boolean;
};

export type ForwardedHeader = "x-forwarded-for" | "forwarded";

/** Hops examined at most: a longer chain of trusted proxies is a misconfiguration or an attack. */
const MAX_HOPS = 32;

export function resolveClient(
  peer: string,
  header: string | undefined,
  kind: ForwardedHeader,
  trusted: CidrSet,
): Result<ClientIdentity, string> {
  const p = parseIp(peer);
  if (!p.ok) return err(`the peer address "${peer}" is not an IP address`);
  const self: ClientIdentity = { address: p.value, text: formatIp(p.value), via: "socket", malformed: false };
  if (header === undefined || header === "" || trusted.size === 0 || !trusted.has(p.value)) return ok(self);
  const hops = kind === "forwarded" ? forwardedHops(header) : xffHops(header);
  let nearest = self;
  for (let i = hops.length - 1, n = 0; i >= 0 && n < MAX_HOPS; i--, n++) {
    const h = parseIp(hopAddress(hops[i] ?? ""));
    if (!h.ok) return ok({ ...nearest, malformed: true });
    const hop: ClientIdentity = {
      address: h.value,
      text: formatIp(h.value),
      via: "forwarded",
      malformed: false,
    };
    if (!trusted.has(h.value)) return ok(hop);
    nearest = hop;
  }
  return ok(nearest);
}

function xffHops(header: string): string[] {
  return header.split(",");
}

/** The `for=` values of an RFC 7239 header, one per element. */
function forwardedHops(header: string): string[] {
  const out: string[] = [];
  for (const element of header.split(",")) {
    let value = "";
    for (const pair of element.split(";")) {
      const eq = pair.indexOf("=");
      if (eq !== -1 && pair.slice(0, eq).trim().toLowerCase() === "for") value = pair.slice(eq + 1).trim();
    }
    out.push(value);
  }
  return out;
}

/** `1.2.3.4`, `1.2.3.4:5678`, `[v6]`, `[v6]:port`, `"[v6]:port"` or a bare IPv6 to the address part. */
function hopAddress(raw: string): string {
  let t = raw.trim();
  if (t.startsWith('"') && t.endsWith('"') && t.length >= 2) t = t.slice(1, -1);
  if (t.startsWith("[")) {
    const close = t.indexOf("]");
    return close === -1 ? t : t.slice(1, close);
  }
  const colon = t.indexOf(":");
  if (colon !== -1 && colon === t.lastIndexOf(":")) return t.slice(0, colon);
  return t;
}

/**
 * The X-Forwarded-For to send upstream: the chain as received plus the peer when the peer is a trusted
 * proxy; only the peer otherwise, because a chain from an untrusted peer is the client's own invention
 * and a backend that reads its leftmost entry would believe it.
 */
export function forwardedFor(peer: string, received: string | undefined, peerTrusted: boolean): string {
  const p = parseIp(peer);
  const self = p.ok ? formatIp(p.value) : peer;
  if (!peerTrusted || received === undefined || received.trim() === "") return self;
  return `${received}, ${self}`;
}
