/**
 * CSV exports (with a header line) of Kamailio's accounting tables: `acc` and `missed_calls` hold one
 * row per transaction (method, from_tag, to_tag, callid, sip_code, sip_reason, time, then db_extra
 * columns) and go through the same INVITE/BYE pairing as the syslog lines; `acc_cdrs` holds one row per
 * answered call (start_time, end_time, duration, then cdr_extra columns such as callid, src_user).
 * `time`, `start_time` and `end_time` are DATETIME values in the database's zone (the reader's
 * timeZone), possibly with milliseconds; epoch seconds are accepted too. NULL, `\N` and empty are alike.
 */
import type { CallRecord } from "../../../core/call-events.js";
import { CsvRecordSplitter, parseCsvLine } from "./csv-line.js";
import { parseCount, stableCallId, wholeSeconds } from "./fields.js";
import { AccEvent, type AccPairing, firstOf } from "./kamailio-calls.js";
import { buildRecord, type CdrContext, Draft, switchTime } from "./record.js";
import type { CdrItem } from "./types.js";

export type TableKind = "acc" | "cdrs";

const delimiterOf = (header: string): string => (header.includes("\t") && !header.includes(",") ? "\t" : ",");

function headerNames(header: string): string[] {
  const fields: string[] = [];
  const n = parseCsvLine(header, fields, delimiterOf(header));
  return fields.slice(0, Math.max(n, 0)).map((f) => f.trim().toLowerCase());
}

/** Which table a header line belongs to, or undefined when it is not a known acc table header. */
export function tableKind(header: string): TableKind | undefined {
  const names = headerNames(header);
  if (names.includes("start_time") && (names.includes("end_time") || names.includes("duration")))
    return "cdrs";
  if (names.includes("method") && (names.includes("callid") || names.includes("call_id"))) return "acc";
  return undefined;
}

const nullish = (v: string): boolean => v === "" || v === "NULL" || v === "\\N";

export class KamailioTableReader {
  private readonly splitter: CsvRecordSplitter;
  private readonly count: number;
  private readonly col: (...names: string[]) => number;
  private readonly method: number;
  private readonly callId: number;
  private readonly code: number;
  private readonly time: number;
  private readonly timeAttr: number;
  private readonly timeExten: number;
  private readonly startTime: number;
  private readonly endTime: number;
  private readonly duration: number;
  private readonly accountCols: number[];
  private readonly toCols: number[];
  private readonly fromCols: number[];
  private readonly sourceIpCols: number[];
  private readonly event = new AccEvent();
  private readonly draft = new Draft();
  private out: CdrItem[] = [];

  constructor(
    private readonly ctx: CdrContext,
    private readonly pairing: AccPairing,
    header: string,
    private readonly kind: TableKind,
  ) {
    const names = headerNames(header);
    this.count = names.length;
    this.col = (...candidates) => {
      for (const c of candidates) {
        const i = names.indexOf(c.toLowerCase());
        if (i >= 0) return i;
      }
      return -1;
    };
    this.method = this.col("method");
    this.callId = this.col("callid", "call_id");
    this.code = this.col("sip_code", "code");
    this.time = this.col("time", "timestamp");
    this.timeAttr = this.col("time_attr");
    this.timeExten = this.col("time_exten");
    this.startTime = this.col("start_time");
    this.endTime = this.col("end_time");
    this.duration = this.col("duration");
    const k = ctx.options.kamailio;
    const cols = (list: readonly string[]): number[] => list.map((n) => this.col(n)).filter((i) => i >= 0);
    this.accountCols = cols(k.account);
    this.toCols = cols(k.to);
    this.fromCols = cols(k.from);
    this.sourceIpCols = cols(k.sourceIp);
    this.splitter = new CsvRecordSplitter(
      delimiterOf(header),
      (fields, n, line, text) => this.row(fields, n, line, text),
      (line, text) => ctx.reject(this.out, line, "quoted field is never closed", text),
      (n) => n === this.count,
    );
  }

  push(line: string, lineNo: number, out: CdrItem[]): void {
    if (line.length === 0 && !this.splitter.waiting) return;
    this.out = out;
    this.splitter.push(line, lineNo);
  }

  finish(out: CdrItem[]): void {
    this.out = out;
    this.splitter.finish();
  }

  private row(f: string[], n: number, line: number, text: string): void {
    if (n !== this.count) {
      this.ctx.reject(this.out, line, `expected ${this.count} columns (the header), found ${n}`, text);
      return;
    }
    if (this.kind === "cdrs") this.ctx.emit(this.out, line, this.cdr(f), text);
    else {
      const problem = this.transaction(f, line, text);
      if (problem !== undefined) this.ctx.reject(this.out, line, problem, text);
    }
  }

  private timeAt(f: string[], index: number): number {
    const v = f[index] ?? "";
    return nullish(v) ? Number.NaN : switchTime(v, this.ctx.clock);
  }

  /** Hands the row to the pairing, or says what is wrong with it. */
  private transaction(f: string[], line: number, text: string): string | undefined {
    const e = this.event;
    e.method = (f[this.method] ?? "").toUpperCase();
    e.callId = f[this.callId] ?? "";
    if (e.method === "" || e.callId === "") return "acc row without method or callid";
    e.code = parseCount(f[this.code] ?? "");
    if (e.code < 0) return "acc row without a numeric sip_code";
    e.at = this.timeAt(f, this.time);
    const attr = f[this.timeAttr] ?? "";
    if (attr.includes(".") && Number.isFinite(Number(attr))) e.at = Math.floor(Number(attr) * 1000);
    else if (Number.isFinite(e.at)) {
      const usec = parseCount(f[this.timeExten] ?? "");
      if (usec >= 0 && usec < 1_000_000) e.at = Math.floor(e.at / 1000) * 1000 + Math.floor(usec / 1000);
    }
    if (!Number.isFinite(e.at)) return "acc row without a valid time";
    e.account = firstOf(f, this.accountCols);
    e.from = firstOf(f, this.fromCols);
    e.to = firstOf(f, this.toCols);
    e.sourceIp = firstOf(f, this.sourceIpCols);
    this.pairing.event(e, line, text, this.out);
    return undefined;
  }

  private cdr(f: string[]): CallRecord | string {
    const d = this.draft;
    d.reset();
    d.account = firstOf(f, this.accountCols);
    d.from = firstOf(f, this.fromCols);
    d.to = firstOf(f, this.toCols);
    d.sourceIp = firstOf(f, this.sourceIpCols);
    d.start = this.timeAt(f, this.startTime);
    if (Number.isNaN(d.start)) return "start_time is missing or malformed";
    d.end = this.timeAt(f, this.endTime);
    const duration = f[this.duration] ?? "";
    if (!nullish(duration)) {
      d.duration = wholeSeconds(duration);
      if (d.duration < 0) return "duration is not a number of seconds";
      d.billsec = d.duration;
    }
    // acc_cdrs holds answered dialogs only, and does not keep the answer time apart from start_time.
    d.answer = d.start;
    d.disposition = "ANSWERED";
    const callId = f[this.callId] ?? "";
    d.callId = !nullish(callId)
      ? callId
      : stableCallId([d.account, d.to, f[this.startTime] ?? "", f[this.endTime] ?? ""]);
    return buildRecord(d);
  }
}
