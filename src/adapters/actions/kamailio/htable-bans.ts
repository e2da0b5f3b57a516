import { canonicalIp } from "../../../core/sip-address.js";
import { KamailioError } from "./errors.js";
import { KamailioRpc, type RpcCaller } from "./rpc.js";

/**
 * Bans enforced by Kamailio itself: one htable (`mamori_bans` by default) whose keys are banned
 * source addresses, which the routing script checks first (`$sht(mamori_bans=>$si)`) and drops. Each
 * entry carries its own expiry, so a ban ends by itself even if Mamori is down; the table needs an
 * `autoexpire` for Kamailio to run expiry at all (deploy/kamailio/pbx-guard.cfg has one).
 *
 * A BanEnforcer for the PBX service (name, ban, unban, reconcile). Idempotent like the nftables one:
 * banning a banned address re-times it, unbanning an address not banned is fine, and reconcile makes
 * the table hold exactly the bans in the store. The table is Mamori's: reconcile removes any other key.
 *
 * Keys are the canonical text of the address (`2001:db8::5`, lower case, compressed), which is what
 * Kamailio prints for `$si`; the RPC reads `name[n]` as an array index, and a canonical address never
 * has brackets.
 */
export type KamailioHtableOptions = {
  /** The JSON-RPC endpoint, e.g. `http://127.0.0.1:5071/RPC`; or give `rpc`. */
  readonly rpcUrl?: string | undefined;
  /** A client to use instead of one made from rpcUrl (shared with the call guard, or a fake in tests). */
  readonly rpc?: RpcCaller | undefined;
  /** The htable; default `mamori_bans`. */
  readonly table?: string | undefined;
  /** Longest a single RPC may take; default 2 s. */
  readonly timeoutMs?: number | undefined;
  /** The enforcer's name in logs and /health; default `kamailio`. */
  readonly name?: string | undefined;
  /** RPCs in flight at once during a reconcile; default 4. */
  readonly concurrency?: number | undefined;
};

export type DesiredBan = { readonly address: string; readonly until: number };

export type HtableReconcileResult = {
  readonly added: readonly string[];
  /** Already there; re-timed to the store's expiry (the table does not tell an entry's time left). */
  readonly updated: readonly string[];
  readonly removed: readonly string[];
  readonly invalid: readonly string[];
};

const TABLE_NAME = /^[A-Za-z0-9_]{1,64}$/;
/** htable takes the expiry as a C int of seconds; ten years is more than any ban ladder. */
export const MAX_EXPIRE_S = 10 * 365 * 86_400;

export class KamailioHtableBans {
  readonly name: string;
  readonly table: string;
  private readonly rpc: RpcCaller;
  private readonly concurrency: number;
  /** Operations run one at a time, so a reconcile's dump and its changes see no ban slip between them. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: KamailioHtableOptions) {
    const table = opts.table ?? "mamori_bans";
    if (!TABLE_NAME.test(table)) throw new RangeError(`"${table}" is not a Kamailio htable name`);
    if (opts.rpc === undefined && opts.rpcUrl === undefined) {
      throw new RangeError("the Kamailio ban enforcer needs rpcUrl (e.g. http://127.0.0.1:5071/RPC)");
    }
    this.table = table;
    this.name = opts.name ?? "kamailio";
    this.rpc = opts.rpc ?? new KamailioRpc({ url: opts.rpcUrl ?? "", timeoutMs: opts.timeoutMs });
    this.concurrency = Math.max(1, Math.min(32, opts.concurrency ?? 4));
  }

  /** Bans an address for `durationMs` (whole seconds, at least one), or re-times its ban. */
  async ban(address: string, durationMs: number): Promise<{ address: string; expireSeconds: number }> {
    const ip = checkAddress(address);
    if (!Number.isFinite(durationMs) || durationMs <= 0) {
      throw new RangeError(`a ban lasts a positive time, not ${durationMs} ms`);
    }
    const seconds = expireSeconds(durationMs);
    return this.serial(async () => {
      await this.set(ip, seconds);
      return { address: ip, expireSeconds: seconds };
    });
  }

  /** Lifts a ban; an address that is not banned is fine. */
  async unban(address: string): Promise<void> {
    const ip = checkAddress(address);
    return this.serial(() => this.remove(ip));
  }

  /** The addresses in the table now (expired entries may linger until Kamailio's next expiry run). */
  list(): Promise<string[]> {
    return this.serial(() => this.listNow());
  }

  /**
   * Makes the table hold exactly the desired bans (from the store, at start): adds the missing,
   * re-times the present, removes the rest. Bans already over are left out, so they are removed.
   */
  async reconcile(desired: readonly DesiredBan[], now: number = Date.now()): Promise<HtableReconcileResult> {
    return this.serial(async () => {
      const present = new Set(await this.listNow());
      const want = new Map<string, number>();
      const invalid: string[] = [];
      for (const d of desired) {
        const ip = canonicalIp(d.address)?.ip;
        if (ip === undefined) invalid.push(d.address);
        else if (d.until > now) want.set(ip, Math.max(want.get(ip) ?? 0, d.until - now));
      }
      const added: string[] = [];
      const updated: string[] = [];
      const removed = [...present].filter((k) => !want.has(k));
      for (const ip of want.keys()) (present.has(ip) ? updated : added).push(ip);
      await this.pool([...want], ([ip, ms]) => this.set(ip, expireSeconds(ms)));
      await this.pool(removed, (key) => this.remove(key));
      return { added, updated, removed, invalid };
    });
  }

  private async set(ip: string, seconds: number): Promise<void> {
    try {
      await this.rpc.call("htable.setxi", [this.table, ip, 1, seconds]);
    } catch (e) {
      // htable says only "Failed to set the item" when the table does not exist.
      throw (await this.missingTable(e)) ?? e;
    }
  }

  private async remove(key: string): Promise<void> {
    try {
      await this.rpc.call("htable.delete", [this.table, key]);
    } catch (e) {
      if (e instanceof KamailioError && e.code === "rpc" && e.rpcCode === 404) return; // not there: fine
      throw (await this.missingTable(e)) ?? e;
    }
  }

  private async listNow(): Promise<string[]> {
    let result: unknown;
    try {
      result = await this.rpc.call("htable.dump", [this.table]);
    } catch (e) {
      throw (await this.missingTable(e)) ?? e;
    }
    return parseDump(result, this.table);
  }

  /** A clear error when the failure is that the table is not configured, else undefined. */
  private async missingTable(e: unknown): Promise<KamailioError | undefined> {
    if (!(e instanceof KamailioError) || e.code !== "rpc") return undefined;
    let missing = /no such htable/i.test(e.message);
    if (!missing) {
      try {
        const tables = await this.rpc.call("htable.listTables");
        missing =
          Array.isArray(tables) &&
          !tables.some((t) => typeof t === "object" && t !== null && Reflect.get(t, "name") === this.table);
      } catch {
        return undefined;
      }
    }
    if (!missing) return undefined;
    return new KamailioError(
      "no-table",
      `Kamailio has no htable "${this.table}": define it in kamailio.cfg with ` +
        `modparam("htable", "htable", "${this.table}=>size=10;autoexpire=3600;") and drop requests ` +
        `whose $sht(${this.table}=>$si) is set (see deploy/kamailio/pbx-guard.cfg)`,
      { ...(e.method === undefined ? {} : { method: e.method }), cause: e },
    );
  }

  private async pool<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, items.length) }, worker));
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function checkAddress(address: string): string {
  const ip = canonicalIp(address)?.ip;
  if (ip === undefined) {
    throw new KamailioError("invalid-address", `"${address}" is not an IPv4 or IPv6 address`);
  }
  return ip;
}

function expireSeconds(ms: number): number {
  return Math.min(Math.max(1, Math.ceil(ms / 1000)), MAX_EXPIRE_S);
}

/**
 * htable.dump answers one object per non-empty slot: `[{entry, size, slot: [{name, value, type}]}]`.
 * Keys are returned as Kamailio holds them; only the names matter here.
 */
export function parseDump(result: unknown, table: string): string[] {
  const bad = () =>
    new KamailioError("bad-output", `htable.dump ${table}: not the list of slots Kamailio answers`, {
      method: "htable.dump",
    });
  if (!Array.isArray(result)) throw bad();
  const names: string[] = [];
  for (const slot of result) {
    if (typeof slot !== "object" || slot === null) throw bad();
    const items: unknown = Reflect.get(slot, "slot");
    if (items === undefined) continue;
    if (!Array.isArray(items)) throw bad();
    for (const item of items) {
      const name: unknown = typeof item === "object" && item !== null ? Reflect.get(item, "name") : undefined;
      if (typeof name !== "string") throw bad();
      names.push(name);
    }
  }
  return names;
}
