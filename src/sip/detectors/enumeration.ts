import type { PbxGuardSettings } from "../settings.js";
import type { Sink } from "../types.js";
import { MINUTE, pruneMap, putBounded } from "./common.js";

/** User names refused for one address, each with the time it was last refused (oldest first). */
type State = { users: Map<string, number>; lastAt: number };

/**
 * Extension enumeration: one address asking after many different user names and being refused
 * (unknown accounts, wrong passwords for many accounts, 404s seen in HEP capture). Only refusals
 * count: twenty phones behind an office NAT register twenty names from one address, successfully.
 * The map of names per address never holds more than the threshold, so memory is bounded.
 */
export class Enumeration {
  private readonly states = new Map<string, State>();
  private readonly windowMs: number;

  constructor(private readonly settings: PbxGuardSettings) {
    this.windowMs = settings.rules["extension-enumeration"].windowMinutes * MINUTE;
  }

  refused(address: string, user: string, at: number, established: boolean, via: string, sink: Sink): void {
    const rule = this.settings.rules["extension-enumeration"];
    if (rule.mode === "off") return;
    let s = this.states.get(address);
    if (!s) {
      s = { users: new Map(), lastAt: at };
      putBounded(this.states, address, s, this.settings.limits.maxSources);
    }
    if (at > s.lastAt) s.lastAt = at;
    // Re-inserting keeps the map in order of last refusal, so old names drop off the front.
    s.users.delete(user);
    s.users.set(user, at);
    for (const [u, t] of s.users) {
      if (at - t <= this.windowMs) break;
      s.users.delete(u);
    }
    const threshold = rule.distinctUsers * (established ? this.settings.established.factor : 1);
    if (s.users.size < threshold) return;
    const users = [...s.users.keys()];
    sink.signals.push({
      type: "ban",
      rule: "extension-enumeration",
      address,
      at,
      message: `${users.length} different user names refused for ${address} within ${rule.windowMinutes} minutes`,
      evidence: {
        distinctUsers: users.length,
        windowMinutes: rule.windowMinutes,
        threshold,
        established,
        via,
        users: users.slice(0, 10),
      },
    });
    this.states.delete(address);
  }

  prune(now: number): void {
    pruneMap(this.states, (s) => now - s.lastAt > this.windowMs);
  }
}
