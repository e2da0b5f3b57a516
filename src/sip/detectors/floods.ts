import { BucketWindow } from "../../core/windows.js";
import type { PbxGuardSettings } from "../settings.js";
import type { Sink } from "../types.js";
import { countIn, MINUTE, pruneMap, putBounded, slidingCount } from "./common.js";

type State = {
  register: BucketWindow | undefined;
  invite: BucketWindow | undefined;
  limited: BucketWindow | undefined;
  lastAt: number;
};

const SECOND = 1000;

/**
 * Request floods from one address: REGISTER and INVITE per second, averaged over a few seconds, and
 * the SIP server's own limiter (Kamailio pike) blocking the address again and again. Requests are
 * counted from HEP capture, or from the security log where each request leaves exactly one event
 * (challenge sent, login failed or succeeded).
 */
export class Floods {
  private readonly states = new Map<string, State>();
  private readonly keepMs: number;

  constructor(private readonly settings: PbxGuardSettings) {
    const r = settings.rules;
    this.keepMs = Math.max(
      r["register-flood"].windowSeconds * SECOND,
      r["invite-flood"].windowSeconds * SECOND,
      r["server-rate-limited"].windowMinutes * MINUTE,
    );
  }

  request(address: string, method: string, at: number, established: boolean, sink: Sink): void {
    const isRegister = method === "REGISTER";
    if (!isRegister && method !== "INVITE") return;
    const ruleId = isRegister ? "register-flood" : "invite-flood";
    const rule = this.settings.rules[ruleId];
    if (rule.mode === "off") return;
    const s = this.stateFor(address, at);
    let w = isRegister ? s.register : s.invite;
    if (!w) {
      w = new BucketWindow(SECOND, rule.windowSeconds);
      if (isRegister) s.register = w;
      else s.invite = w;
    }
    w.add(at, 1);
    const factor = established ? this.settings.established.factor : 1;
    const threshold = rule.perSecond * rule.windowSeconds * factor;
    const n = countIn(w, at);
    if (n < threshold) return;
    sink.signals.push({
      type: "ban",
      rule: ruleId,
      address,
      at,
      message: `${method} flood from ${address}: ${(n / rule.windowSeconds).toFixed(1)} requests per second`,
      evidence: {
        method,
        requests: n,
        windowSeconds: rule.windowSeconds,
        perSecondLimit: rule.perSecond * factor,
      },
    });
    if (isRegister) s.register = undefined;
    else s.invite = undefined;
  }

  /** The SIP server's own limiter refused the address. */
  limited(address: string, limiter: string, at: number, sink: Sink): void {
    const rule = this.settings.rules["server-rate-limited"];
    if (rule.mode === "off") return;
    const s = this.stateFor(address, at);
    s.limited ??= slidingCount(rule.windowMinutes * MINUTE);
    s.limited.add(at, 1);
    const n = countIn(s.limited, at);
    if (n < rule.count) return;
    sink.signals.push({
      type: "ban",
      rule: "server-rate-limited",
      address,
      at,
      message: `the SIP server's limiter (${limiter}) blocked ${address} ${n} times within ${rule.windowMinutes} minutes`,
      evidence: { limiter, times: n, windowMinutes: rule.windowMinutes },
    });
    s.limited = undefined;
  }

  prune(now: number): void {
    pruneMap(this.states, (s) => now - s.lastAt > this.keepMs);
  }

  private stateFor(address: string, at: number): State {
    let s = this.states.get(address);
    if (!s) {
      s = { register: undefined, invite: undefined, limited: undefined, lastAt: at };
      putBounded(this.states, address, s, this.settings.limits.maxSources);
    } else if (at > s.lastAt) s.lastAt = at;
    return s;
  }
}
