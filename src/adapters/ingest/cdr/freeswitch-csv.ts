/**
 * FreeSWITCH mod_cdr_csv. Each line is a template from cdr_csv.conf.xml with its `${variables}`
 * expanded; the column map comes from the template itself. FreeSWITCH does not escape quotes inside
 * values, which the lenient CSV parser tolerates. `*_stamp` times are `YYYY-MM-DD HH:MM:SS` in the
 * switch's local zone, `*_epoch` seconds, `*_uepoch` microseconds; an unanswered call has an empty
 * answer_stamp (or answer_epoch 0).
 */
import type { CallRecord } from "../../../core/call-events.js";
import { CsvRecordSplitter, parseCsvLine, skipMask } from "./csv-line.js";
import { hangupCauseDisposition } from "./disposition.js";
import { epochMicrosToMs, epochSecondsToMs, parseCount, stableCallId } from "./fields.js";
import { buildRecord, type CdrContext, Draft, fixRepeatedHour, pickAccount, switchTime } from "./record.js";
import type { CdrItem, CdrLineParser } from "./types.js";

/** The columns of the `example` template that FreeSWITCH ships as its default-template, in order. */
export const FREESWITCH_EXAMPLE_COLUMNS = [
  "caller_id_name",
  "caller_id_number",
  "destination_number",
  "context",
  "start_stamp",
  "answer_stamp",
  "end_stamp",
  "duration",
  "billsec",
  "hangup_cause",
  "uuid",
  "bleg_uuid",
  "accountcode",
  "read_codec",
  "write_codec",
] as const;

/** The `example` template itself: `"$` + `{caller_id_name}","$` + `{caller_id_number}",…`. */
export const FREESWITCH_EXAMPLE_TEMPLATE = FREESWITCH_EXAMPLE_COLUMNS.map(
  (name) => '"$' + "{" + name + '}"',
).join(",");

/**
 * Variable names of a template's columns, in order: `${name}` columns give `name`, any other column
 * (a literal, an expression such as `${regex(…)}`) gives "".
 */
export function templateColumns(template: string): { names: string[]; trailingSemicolon: boolean } {
  let t = template.trim();
  const trailingSemicolon = t.endsWith(";");
  if (trailingSemicolon) t = t.slice(0, -1);
  const fields: string[] = [];
  const n = parseCsvLine(t, fields);
  if (n < 1) throw new Error("the FreeSWITCH cdr_csv template is not a CSV line (a quote is never closed)");
  const names = fields.slice(0, n).map((f) => {
    const v = f.trim();
    if (!v.startsWith("${") || !v.endsWith("}")) return "";
    const name = v.slice(2, -1);
    return /^[A-Za-z0-9_]+$/.test(name) ? name : "";
  });
  return { names, trailingSemicolon };
}

type Columns = {
  readonly count: number;
  readonly uuid: number;
  readonly accountcode: number;
  readonly caller: number;
  readonly to: number;
  readonly duration: number;
  readonly billsec: number;
  readonly cause: number;
  readonly sourceIp: number;
  readonly channel: number;
};

/** A time column: its index and unit (wall-clock stamp, epoch seconds, epoch microseconds). */
type TimeColumn = { readonly index: number; readonly unit: "stamp" | "epoch" | "uepoch" };

function timeColumn(names: readonly string[], base: string): TimeColumn {
  for (const unit of ["stamp", "uepoch", "epoch"] as const) {
    const index = names.indexOf(`${base}_${unit}`);
    if (index >= 0) return { index, unit };
  }
  return { index: -1, unit: "stamp" };
}

export class FreeswitchCsvParser implements CdrLineParser {
  private readonly splitter: CsvRecordSplitter;
  private readonly cols: Columns;
  private readonly start: TimeColumn;
  private readonly answer: TimeColumn;
  private readonly end: TimeColumn;
  private readonly trailingSemicolon: boolean;
  private readonly draft = new Draft();
  private out: CdrItem[] = [];

  constructor(private readonly ctx: CdrContext) {
    const { names, trailingSemicolon } = templateColumns(
      ctx.options.freeswitch.template ?? FREESWITCH_EXAMPLE_TEMPLATE,
    );
    const first = (...candidates: string[]): number => {
      for (const c of candidates) {
        const i = names.indexOf(c);
        if (i >= 0) return i;
      }
      return -1;
    };
    this.cols = {
      count: names.length,
      uuid: first("uuid", "call_uuid"),
      accountcode: first("accountcode"),
      caller: first("caller_id_number", "ani", "sip_from_user"),
      to: first("destination_number", "sip_req_user", "sip_to_user"),
      duration: first("duration"),
      billsec: first("billsec"),
      cause: first("hangup_cause"),
      sourceIp: first("sip_network_ip", "network_addr", "sip_received_ip"),
      channel: first("channel_name", "chan_name"),
    };
    this.start = timeColumn(names, "start");
    this.answer = timeColumn(names, "answer");
    this.end = timeColumn(names, "end");
    if (this.cols.to < 0 || this.start.index < 0) {
      throw new Error(
        "the FreeSWITCH cdr_csv template needs a destination_number column and a start time (start_stamp or start_epoch)",
      );
    }
    this.trailingSemicolon = trailingSemicolon;
    this.splitter = new CsvRecordSplitter(
      ",",
      (fields, n, line, text) => this.row(fields, n, line, text),
      (line, text) => ctx.reject(this.out, line, "quoted field is never closed", text),
      (n) => n === this.cols.count,
      skipMask(names.length, [
        ...Object.entries(this.cols).flatMap(([key, index]) => (key === "count" ? [] : [index])),
        this.start.index,
        this.answer.index,
        this.end.index,
      ]),
    );
  }

  push(line: string, lineNo: number, out: CdrItem[]): void {
    if (line.length === 0 && !this.splitter.waiting) return;
    this.out = out;
    this.splitter.push(this.trailingSemicolon && line.endsWith(";") ? line.slice(0, -1) : line, lineNo);
  }

  finish(out: CdrItem[]): void {
    this.out = out;
    this.splitter.finish();
  }

  private time(f: string[], col: TimeColumn): number {
    const s = col.index >= 0 ? (f[col.index] ?? "") : "";
    if (s === "") return Number.NaN;
    if (col.unit === "stamp") return switchTime(s, this.ctx.clock);
    // An epoch of 0 is FreeSWITCH's "never": the call was not answered.
    const ms = col.unit === "epoch" ? epochSecondsToMs(s) : epochMicrosToMs(s);
    return ms === 0 ? Number.POSITIVE_INFINITY : ms;
  }

  private row(f: string[], n: number, line: number, text: string): void {
    const ctx = this.ctx;
    const c = this.cols;
    if (n !== c.count) {
      ctx.reject(this.out, line, `expected ${c.count} columns (the cdr_csv template), found ${n}`, text);
      return;
    }
    ctx.emit(this.out, line, this.read(f, text), text);
  }

  private read(f: string[], text: string): CallRecord | string {
    const ctx = this.ctx;
    const c = this.cols;
    const d = this.draft;
    d.reset();
    const accountcode = f[c.accountcode] ?? "";
    const caller = f[c.caller] ?? "";
    d.account = pickAccount(ctx.options.accountFrom, accountcode, caller);
    d.from = caller;
    d.to = f[c.to] ?? "";
    d.start = this.time(f, this.start);
    if (!Number.isFinite(d.start)) return "start time is missing or malformed";
    const answer = this.time(f, this.answer);
    if (Number.isNaN(answer) && (f[this.answer.index] ?? "") !== "") {
      return "answer time is malformed";
    }
    if (Number.isFinite(answer)) d.answer = answer;
    d.end = this.time(f, this.end);
    if (Number.isNaN(d.end) && (f[this.end.index] ?? "") !== "") {
      return "end time is malformed";
    }
    if (!Number.isFinite(d.end)) d.end = Number.NaN;
    if (c.duration >= 0 && (f[c.duration] ?? "") !== "") {
      d.duration = parseCount(f[c.duration] ?? "");
      if (d.duration < 0) return "duration is not a whole number of seconds";
    }
    if (c.billsec >= 0 && (f[c.billsec] ?? "") !== "") {
      d.billsec = parseCount(f[c.billsec] ?? "");
      if (d.billsec < 0) return "billsec is not a whole number of seconds";
    }
    d.disposition = Number.isFinite(d.answer) ? "ANSWERED" : hangupCauseDisposition(f[c.cause] ?? "");
    const uuid = f[c.uuid] ?? "";
    d.callId = uuid !== "" ? uuid : stableCallId([accountcode, caller, d.to, f[c.channel] ?? "", text]);
    if (c.sourceIp >= 0) d.sourceIp = f[c.sourceIp] ?? "";
    if (this.start.unit === "stamp" && this.end.unit === "stamp") {
      fixRepeatedHour(
        d,
        ctx.clock,
        f[this.start.index] ?? "",
        f[this.answer.index] ?? "",
        f[this.end.index] ?? "",
      );
    }
    return buildRecord(d);
  }
}
