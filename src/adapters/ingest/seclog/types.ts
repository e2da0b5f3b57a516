/**
 * What every security-log parser returns for one line: an event, a line that is not about security
 * (`skip`), or a line that looked like one but could not be used (`rejected`, with the reason, so that
 * a format change or an injection attempt shows up in counts instead of vanishing).
 */
import type { SipEvent } from "../../../core/sip-events.js";

export type ParseContext = {
  /** Name of the log (file path or "stdin"), copied into each event's `raw`. */
  readonly source: string;
  /** 1-based line number within the source. */
  readonly line: number;
  /** Year for time stamps that carry none (`Jan  5 03:12:45`); without it such lines are rejected. */
  readonly year?: number | undefined;
  /** IANA zone for time stamps without an offset; UTC when absent. */
  readonly timeZone?: string | undefined;
};

export type SipLineResult =
  | { readonly type: "event"; readonly event: SipEvent }
  | { readonly type: "skip" }
  | { readonly type: "rejected"; readonly reason: string; readonly source: string; readonly line: number };

export type SeclogParser = (line: string, ctx: ParseContext) => SipLineResult;

export const SKIP: SipLineResult = { type: "skip" };

export const rejected = (ctx: ParseContext, reason: string): SipLineResult => ({
  type: "rejected",
  reason,
  source: ctx.source,
  line: ctx.line,
});

export const emitted = (event: SipEvent): SipLineResult => ({ type: "event", event });

/** Drops undefined values so that events compare cleanly and honour exactOptionalPropertyTypes. */
export function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
