/**
 * What every format shares once a row is split into fields: a reusable draft of the call, the rules
 * that turn it into a CallRecord (or say why not), and the context that reports rejections.
 */
import type { CallRecord } from "../../../core/call-events.js";
import { epochSecondsToMs } from "./fields.js";
import type { ResolvedCdrOptions } from "./options.js";
import type { AccountFrom, CdrItem, Disposition } from "./types.js";
import { parseWallClock, type ZoneClock } from "./wall-clock.js";

const RAW_LIMIT = 1000;

/** One reader's source name, options and clock; the only way parsers emit items. */
export class CdrContext {
  constructor(
    readonly source: string,
    readonly options: ResolvedCdrOptions,
    readonly clock: ZoneClock,
  ) {}

  record(out: CdrItem[], line: number, record: CallRecord): void {
    out.push({ type: "record", record, pos: { source: this.source, line } });
  }

  reject(out: CdrItem[], line: number, reason: string, raw?: string): void {
    const rejected =
      raw !== undefined && this.options.keepRaw
        ? { source: this.source, line, reason, raw: raw.length > RAW_LIMIT ? raw.slice(0, RAW_LIMIT) : raw }
        : { source: this.source, line, reason };
    out.push({ type: "rejected", rejected });
  }

  /** A record, or the rejection of `raw` when `result` is the reason it could not be made. */
  emit(out: CdrItem[], line: number, result: CallRecord | string, raw?: string): void {
    if (typeof result === "string") this.reject(out, line, result, raw);
    else this.record(out, line, result);
  }

  notice(line: number, message: string): void {
    this.options.onNotice?.({ source: this.source, line, message });
  }
}

/** A call being read. Times are epoch ms or NaN when absent; durations whole seconds or -1 when absent. */
export class Draft {
  callId = "";
  account = "";
  from = "";
  to = "";
  start = Number.NaN;
  answer = Number.NaN;
  end = Number.NaN;
  billsec = -1;
  duration = -1;
  disposition: Disposition | undefined = undefined;
  sourceIp = "";

  reset(): void {
    this.callId = "";
    this.account = "";
    this.from = "";
    this.to = "";
    this.start = Number.NaN;
    this.answer = Number.NaN;
    this.end = Number.NaN;
    this.billsec = -1;
    this.duration = -1;
    this.disposition = undefined;
    this.sourceIp = "";
  }
}

type MutableRecord = { -readonly [K in keyof CallRecord]: CallRecord[K] };

/**
 * The record a draft describes, or the reason it cannot be used. Missing parts are derived the way the
 * switches themselves count: end from start + duration or answer + billsec, billsec from answer to end.
 * A call that did not end ANSWERED carries no answer time (CallRecord's contract).
 */
/**
 * A copy of a string that does not keep its source alive. Fields are slices of the 1 MiB chunk a line
 * came from; the guard keeps some of them (account keys, recent numbers) for hours of event time, and
 * each would pin its whole chunk: replay memory then grows with the file. Concatenation flattens into a
 * fresh string; the slice of it is what is kept.
 */
const own = (s: string): string => (s.length < 13 ? s : (" " + s).slice(1));

export function buildRecord(d: Draft): CallRecord | string {
  if (d.to === "") return "destination number is empty";
  if (d.account === "") return "account is empty";
  const start = d.start;
  if (!Number.isFinite(start)) return "start time is missing or malformed";
  let answer = d.answer;
  let end = d.end;
  if (!Number.isFinite(end)) {
    const from = Number.isFinite(answer) ? answer : start;
    if (d.duration >= 0) end = start + d.duration * 1000;
    else if (d.billsec >= 0) end = from + d.billsec * 1000;
    else end = from;
  }
  if (end < start) return "end time is before start time";
  let billsec = d.billsec;
  if (billsec < 0) billsec = Number.isFinite(answer) ? Math.max(0, Math.round((end - answer) / 1000)) : 0;
  const disposition = d.disposition ?? (Number.isFinite(answer) || billsec > 0 ? "ANSWERED" : "UNKNOWN");
  if (disposition === "ANSWERED") {
    if (!Number.isFinite(answer)) answer = Math.max(start, end - billsec * 1000);
    else if (answer < start || answer > end) return "answer time is not between start and end";
  }
  const r: MutableRecord = {
    callId: own(d.callId),
    account: own(d.account),
    to: own(d.to),
    start,
    end,
    billsec,
    disposition,
  };
  if (d.from !== "") r.from = own(d.from);
  if (disposition === "ANSWERED") r.answer = answer;
  if (d.sourceIp !== "") r.sourceIp = own(d.sourceIp);
  return r;
}

/** The account under the configured rule; empty when neither field has one. */
export function pickAccount(rule: AccountFrom, accountcode: string, caller: string): string {
  if (rule === "accountcode") return accountcode;
  if (rule === "caller") return caller;
  return accountcode !== "" ? accountcode : caller;
}

/**
 * A switch time field: `YYYY-MM-DD HH:MM:SS` in the clock's zone, or epoch seconds (Asterisk's
 * `${CDR(start,u)}`). NaN when malformed; callers check for the empty field first.
 */
export function switchTime(s: string, clock: ZoneClock): number {
  const c = s.charCodeAt(4);
  if (c === 45 || c === 47) {
    const wall = parseWallClock(s);
    return Number.isNaN(wall) ? wall : clock.toEpoch(wall);
  }
  return epochSecondsToMs(s);
}

/**
 * Wall-clock times in the hour that a DST change repeats are read as the earlier instant. When that
 * disagrees with the call's duration, the later reading of start and/or end is tried (and answer kept
 * between them), so that a call made in the repeated hour keeps its true length.
 */
export function fixRepeatedHour(
  d: Draft,
  clock: ZoneClock,
  startText: string,
  answerText: string,
  endText: string,
): void {
  if (clock.utc || d.duration < 0 || !Number.isFinite(d.end) || !Number.isFinite(d.start)) return;
  const want = d.duration * 1000;
  if (Math.abs(d.end - d.start - want) <= 1500) return;
  const startWall = parseWallClock(startText);
  const endWall = parseWallClock(endText);
  if (Number.isNaN(startWall) || Number.isNaN(endWall)) return;
  const startLater = clock.toEpochLater(startWall);
  const endLater = clock.toEpochLater(endWall);
  if (Math.abs(endLater - d.start - want) <= 1500) d.end = endLater;
  else if (Math.abs(d.end - startLater - want) <= 1500) d.start = startLater;
  else if (Math.abs(endLater - startLater - want) <= 1500) {
    d.start = startLater;
    d.end = endLater;
  } else return;
  if (Number.isFinite(d.answer) && (d.answer < d.start || d.answer > d.end)) {
    const answerWall = parseWallClock(answerText);
    if (!Number.isNaN(answerWall)) d.answer = clock.toEpochLater(answerWall);
  }
}
