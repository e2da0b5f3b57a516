/**
 * The nft scripts Mamori runs, and the reading of what `nft -j` lists: pure functions, so that what
 * reaches the kernel can be tested without root. Every address is parsed and rewritten in canonical
 * form before it is written into a script; nothing from outside is pasted in as text.
 */
import { formatIp, parseIp } from "../../../core/cidr.js";
import type { IpFamily } from "../../../core/sip-events.js";
import { NftablesError } from "./errors.js";

export const TABLE = "mamori";
export const SETS: Readonly<Record<IpFamily, string>> = { ipv4: "banned4", ipv6: "banned6" };

/**
 * Where the drop happens.
 * - prerouting, priority -300 (raw), the default: before connection tracking, so a banned flood
 *   creates no conntrack entries, and it also covers a PBX that runs in a container or behind this
 *   host (published ports are forwarded and never reach the input hook).
 * - input, priority -10: traffic for this host only, just before the usual filter tables (0).
 * A drop in any base chain is final, whatever other tables accept, so the priority decides cost,
 * not whether the ban holds.
 */
export const HOOKS = ["prerouting", "input"] as const;
export type NftHook = (typeof HOOKS)[number];
export const DEFAULT_PRIORITY: Readonly<Record<NftHook, number>> = { prerouting: -300, input: -10 };

/**
 * The longest timeout written to the kernel. Some kernels refuse timeouts past about 49 days; bans
 * longer than this are written at this length and topped up by `reconcile`.
 */
export const MAX_TIMEOUT_MS = 24 * 24 * 60 * 60_000;

export type Address = { readonly address: string; readonly family: IpFamily };

/** Canonical form of an address, or a typed error before anything runs. */
export function checkAddress(text: string): Address {
  const r = parseIp(text);
  if (!r.ok) throw new NftablesError("invalid-address", `refusing to pass to nft: ${r.error}`);
  return { address: formatIp(r.value), family: r.value.family };
}

/** Creates what is missing and rewrites the chain's two rules; the sets and their elements stay. */
export function ensureScript(hook: NftHook, priority: number): string {
  if (!Number.isInteger(priority) || priority < -1000 || priority > 1000) {
    throw new RangeError(`priority must be an integer between -1000 and 1000, not ${priority}`);
  }
  const t = `inet ${TABLE}`;
  return [
    `add table ${t}`,
    `add set ${t} ${SETS.ipv4} { type ipv4_addr; flags timeout; }`,
    `add set ${t} ${SETS.ipv6} { type ipv6_addr; flags timeout; }`,
    `add chain ${t} ${hook} { type filter hook ${hook} priority ${priority}; policy accept; }`,
    // Flush and re-add in one transaction: idempotent, and never a moment without the rules.
    `flush chain ${t} ${hook}`,
    `add rule ${t} ${hook} ip saddr @${SETS.ipv4} counter drop`,
    `add rule ${t} ${hook} ip6 saddr @${SETS.ipv6} counter drop`,
    "",
  ].join("\n");
}

export function timeoutText(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`a ban lasts a positive time, not ${ms} ms`);
  return `${Math.max(1000, Math.min(Math.ceil(ms), MAX_TIMEOUT_MS))}ms`;
}

export type ElementChange =
  | { readonly type: "put"; readonly address: Address; readonly timeoutMs: number }
  | { readonly type: "remove"; readonly address: Address };

// Keeps each line of a script to a size nft reads comfortably.
const CHUNK = 500;

/**
 * One transaction for many changes. nft has no "add or update" for an element and no "delete if
 * present", and a failed command aborts the whole transaction; so every element is first added
 * (a no-op when it exists), then deleted, then, for a ban, added with its new timeout.
 */
export function elementScript(changes: readonly ElementChange[]): string {
  const lines: string[] = [];
  for (const family of ["ipv4", "ipv6"] as const) {
    const mine = changes.filter((c) => c.address.family === family);
    const set = `inet ${TABLE} ${SETS[family]}`;
    for (let i = 0; i < mine.length; i += CHUNK) {
      const chunk = mine.slice(i, i + CHUNK);
      const all = chunk.map((c) => c.address.address).join(", ");
      lines.push(`add element ${set} { ${all} }`, `delete element ${set} { ${all} }`);
      const puts = chunk.flatMap((c) =>
        c.type === "put" ? [`${c.address.address} timeout ${timeoutText(c.timeoutMs)}`] : [],
      );
      if (puts.length > 0) lines.push(`add element ${set} { ${puts.join(", ")} }`);
    }
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/** An element of a ban set as nft lists it. */
export type BanElement = {
  readonly address: string;
  readonly family: IpFamily;
  /** The timeout it was added with; undefined for an element without one (it never expires). */
  readonly timeoutMs: number | undefined;
  /** Time left; undefined for an element without a timeout. */
  readonly expiresMs: number | undefined;
};

/** Reads the output of `nft -j list table inet mamori`: the elements of both ban sets. */
export function parseTableJson(text: string): BanElement[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new NftablesError("bad-output", "nft -j did not print JSON", { cause });
  }
  const items = (doc as { nftables?: unknown })?.nftables;
  if (!Array.isArray(items)) throw new NftablesError("bad-output", "nft -j printed no nftables array");
  const out: BanElement[] = [];
  for (const item of items) {
    const set = (item as { set?: Record<string, unknown> }).set;
    if (!set || set.table !== TABLE || set.family !== "inet") continue;
    const family = set.name === SETS.ipv4 ? "ipv4" : set.name === SETS.ipv6 ? "ipv6" : undefined;
    if (!family || !Array.isArray(set.elem)) continue;
    for (const e of set.elem) out.push(...readElement(e, family));
  }
  return out;
}

function readElement(e: unknown, family: IpFamily): BanElement[] {
  let val: unknown = e;
  let timeout: unknown;
  let expires: unknown;
  if (typeof e === "object" && e !== null && "elem" in e) {
    const inner = (e as { elem: Record<string, unknown> }).elem;
    val = inner.val;
    timeout = inner.timeout;
    expires = inner.expires;
  }
  if (typeof val !== "string") return [];
  const r = parseIp(val);
  if (!r.ok || r.value.family !== family) return [];
  // nft -j gives whole seconds.
  const ms = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v * 1000 : undefined);
  return [{ address: formatIp(r.value), family, timeoutMs: ms(timeout), expiresMs: ms(expires) }];
}

export type DesiredBan = { readonly address: string; readonly until: number };

export type ReconcilePlan = {
  readonly changes: ElementChange[];
  readonly added: string[];
  readonly updated: string[];
  readonly removed: string[];
  /** Desired entries that are not addresses; skipped so that one bad row does not stop the rest. */
  readonly invalid: string[];
};

/**
 * What to change so that the sets hold exactly the desired bans: add the missing, remove the stray,
 * and re-time an element whose time left is off by more than `toleranceMs` (nft lists whole seconds,
 * and a ban written a moment ago has already lost a little).
 */
export function planReconcile(
  current: readonly BanElement[],
  desired: readonly DesiredBan[],
  now: number,
  toleranceMs = 5000,
): ReconcilePlan {
  const want = new Map<string, { address: Address; until: number }>();
  const invalid: string[] = [];
  for (const d of desired) {
    const r = parseIp(d.address);
    if (!r.ok || !Number.isFinite(d.until)) {
      invalid.push(d.address);
      continue;
    }
    const address = { address: formatIp(r.value), family: r.value.family };
    const prev = want.get(address.address);
    if (!prev || d.until > prev.until) want.set(address.address, { address, until: d.until });
  }
  const have = new Map(current.map((e) => [e.address, e]));
  const plan: ReconcilePlan = { changes: [], added: [], updated: [], removed: [], invalid };
  for (const [addr, w] of want) {
    const left = w.until - now;
    if (left <= 0) continue;
    const goal = Math.min(left, MAX_TIMEOUT_MS);
    const e = have.get(addr);
    if (!e) {
      plan.changes.push({ type: "put", address: w.address, timeoutMs: goal });
      plan.added.push(addr);
    } else if (
      e.expiresMs === undefined ||
      Math.abs(e.expiresMs - goal) > Math.max(toleranceMs, goal / 100)
    ) {
      plan.changes.push({ type: "put", address: w.address, timeoutMs: goal });
      plan.updated.push(addr);
    }
  }
  for (const e of current) {
    const w = want.get(e.address);
    if (w && w.until > now) continue;
    plan.changes.push({ type: "remove", address: { address: e.address, family: e.family } });
    plan.removed.push(e.address);
  }
  return plan;
}
