import { matchScanner, type ScannerList, type ScannerPattern } from "../scanner-list.js";
import type { PbxGuardSettings } from "../settings.js";
import type { Sink } from "../types.js";

// A handful of User-Agents make up nearly all traffic; remembering the answers skips the substring scan.
const CACHE_MAX = 2048;

/**
 * Known scanner User-Agents: a match bans the address at once. No window: one request from
 * "friendly-scanner" is already the scan. The guard, which remembers its bans, keeps this to one ban
 * per address while it lasts.
 */
export class ScannerAgent {
  private readonly cache = new Map<string, ScannerPattern | null>();

  constructor(
    private readonly settings: PbxGuardSettings,
    private readonly list: ScannerList,
  ) {}

  seen(address: string, userAgent: string | undefined, at: number, sink: Sink): void {
    if (userAgent === undefined || userAgent === "" || this.list.patterns.length === 0) return;
    if (this.settings.rules["scanner-user-agent"].mode === "off") return;
    let hit = this.cache.get(userAgent);
    if (hit === undefined) {
      hit = matchScanner(this.list, userAgent) ?? null;
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(userAgent, hit);
    }
    if (hit === null) return;
    sink.signals.push({
      type: "ban",
      rule: "scanner-user-agent",
      address,
      at,
      message: `${address} sends the User-Agent of a SIP scanner (${hit.match})`,
      evidence: {
        userAgent: userAgent.slice(0, 200),
        pattern: hit.match,
        note: hit.note,
        list: this.list.source,
      },
    });
  }
}
