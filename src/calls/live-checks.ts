import type { Finding } from "../core/findings.js";
import type { AccountState } from "./account-state.js";
import { raise } from "./attempt-checks.js";
import type { NumberInfo } from "./number-info.js";

/** A call the guard allowed and has not seen end. */
export type LiveCall = {
  readonly callId: string;
  readonly account: string;
  readonly attemptAt: number;
  answeredAt: number | undefined;
  readonly e164: string | undefined;
  readonly international: boolean;
  readonly perMinute: number;
  readonly perCall: number;
  /** Cost counted at authorize time, corrected at hang-up. */
  readonly estimate: number;
  /** Set once a limit has fired, so that a call is ended once, not every tick. */
  terminated: boolean;
  /**
   * The number as classified, for a switch that asks again about the same call. The rest of the
   * verdict is not kept: at tens of thousands of calls up, every retained byte costs garbage-collection
   * pauses on the decision path.
   */
  readonly number: NumberInfo | undefined;
};

/**
 * Live limits: a connected call that passes its longest allowed duration or its cost cap raises a
 * finding while it is still up, so that the call can be ended before the money is spent.
 */
export function checkLiveCall(call: LiveCall, s: AccountState, now: number, findings: Finding[]): void {
  if (call.answeredAt === undefined) return;
  const rules = s.policy.rules;
  const seconds = (now - call.answeredAt) / 1000;
  const ctx = { at: now, state: s, findings };
  const maxSeconds = s.policy.caps.maxInternationalCallSeconds;
  if (call.international && rules["max-duration"].mode !== "off" && maxSeconds > 0 && seconds > maxSeconds) {
    raise(
      ctx,
      "max-duration",
      `international call up for ${Math.round(seconds)} s, longer than ${maxSeconds} s`,
      {
        callId: call.callId,
        to: call.e164 === undefined ? undefined : "+" + call.e164,
        seconds: Math.round(seconds),
        limit: maxSeconds,
      },
    );
    return;
  }
  const cost = call.perCall + (call.perMinute * seconds) / 60;
  const cap = rules["live-cost-cap"].maxCallCost;
  if (rules["live-cost-cap"].mode !== "off" && cap > 0 && cost > cap) {
    raise(ctx, "live-cost-cap", `live call has cost about ${Math.round(cost)}, above the cap of ${cap}`, {
      callId: call.callId,
      to: call.e164 === undefined ? undefined : "+" + call.e164,
      seconds: Math.round(seconds),
      cost: Math.round(cost),
      cap,
    });
  }
}
