/**
 * Asterisk cdr_csv (Master.csv and the per-account files) and cdr_custom.
 *
 * cdr_csv writes 16 columns: accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp,
 * lastdata, start, answer, end, duration, billsec, disposition, amaflags; then uniqueid and userfield
 * when loguniqueid / loguserfield are on, and peeraccount, linkedid, sequence with newcdrcolumns: 16 to
 * 21 columns. Strings are quoted with quotes doubled, numbers are bare, an unset time (answer, for a call
 * nobody answered) is an empty field. Times are `YYYY-MM-DD HH:MM:SS` in the switch's local zone, or UTC
 * with usegmtime. The layout is read from each row's column count, so a file that spans a configuration
 * change is still read; the change is reported as a notice.
 */
import type { CallRecord } from "../../../core/call-events.js";
import { CsvRecordSplitter, skipMask } from "./csv-line.js";
import { asteriskDisposition } from "./disposition.js";
import { parseCount, stableCallId } from "./fields.js";
import { buildRecord, type CdrContext, Draft, fixRepeatedHour, pickAccount, switchTime } from "./record.js";
import type { CdrItem, CdrLineParser } from "./types.js";

const BASE = [
  "accountcode",
  "src",
  "dst",
  "dcontext",
  "clid",
  "channel",
  "dstchannel",
  "lastapp",
  "lastdata",
  "start",
  "answer",
  "end",
  "duration",
  "billsec",
  "disposition",
  "amaflags",
] as const;
const NEW_COLUMNS = ["peeraccount", "linkedid", "sequence"] as const;
const SOURCE_IP_NAMES = new Set(["recvip", "peerip", "sourceip", "source_ip", "src_ip"]);

type Layout = {
  readonly count: number;
  readonly accountcode: number;
  readonly src: number;
  readonly dst: number;
  readonly channel: number;
  readonly dstchannel: number;
  readonly start: number;
  readonly answer: number;
  readonly end: number;
  readonly duration: number;
  readonly billsec: number;
  readonly disposition: number;
  readonly uniqueid: number;
  readonly sourceIp: number;
};

function layoutOf(names: readonly string[]): Layout {
  const at = (name: string): number => names.indexOf(name);
  return {
    count: names.length,
    accountcode: at("accountcode"),
    src: at("src"),
    dst: at("dst"),
    channel: at("channel"),
    dstchannel: at("dstchannel"),
    start: at("start"),
    answer: at("answer"),
    end: at("end"),
    duration: at("duration"),
    billsec: at("billsec"),
    disposition: at("disposition"),
    uniqueid: at("uniqueid"),
    sourceIp: names.findIndex((n) => SOURCE_IP_NAMES.has(n)),
  };
}

/** The columns a layout reads (clid, lastapp, lastdata and the like are never looked at). */
function usedColumns(l: Layout): number[] {
  return [
    l.accountcode,
    l.src,
    l.dst,
    l.channel,
    l.dstchannel,
    l.start,
    l.answer,
    l.end,
    l.duration,
    l.billsec,
    l.disposition,
    l.uniqueid,
    l.sourceIp,
  ];
}

/** cdr_csv layouts by column count; 17 and 20 columns hold one of uniqueid or userfield. */
function standardLayouts(single: "uniqueid" | "userfield"): ReadonlyMap<number, Layout> {
  const both = ["uniqueid", "userfield"];
  return new Map([
    [16, layoutOf(BASE)],
    [17, layoutOf([...BASE, single])],
    [18, layoutOf([...BASE, ...both])],
    [19, layoutOf([...BASE, ...NEW_COLUMNS])],
    [20, layoutOf([...BASE, single, ...NEW_COLUMNS])],
    [21, layoutOf([...BASE, ...both, ...NEW_COLUMNS])],
  ]);
}

/**
 * Column names of a cdr_custom mapping such as
 * `Master.csv => ${CSV_QUOTE(${CDR(clid)})},${CDR(start,u)},${CHANNEL(recvip)}`: the innermost CDR()
 * or CHANNEL() argument of each comma-separated part, lower-cased; "" for a part that is neither.
 */
export function cdrCustomColumns(mapping: string): string[] {
  const arrow = mapping.indexOf("=>");
  const body = (arrow >= 0 ? mapping.slice(arrow + 2) : mapping).trim();
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "(" || c === "{") depth++;
    else if (c === ")" || c === "}") depth--;
    else if (c === "," && depth === 0) {
      parts.push(body.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(body.slice(from));
  return parts.map((part) => {
    for (const fn of ["CDR(", "CHANNEL("]) {
      const at = part.lastIndexOf(fn);
      if (at >= 0) {
        const rest = part.slice(at + fn.length);
        const stop = rest.search(/[,)]/);
        return (stop >= 0 ? rest.slice(0, stop) : rest).trim().toLowerCase();
      }
    }
    return "";
  });
}

export class AsteriskCsvParser implements CdrLineParser {
  private readonly splitter: CsvRecordSplitter;
  private readonly standard: ReadonlyMap<number, Layout>;
  private readonly custom: Layout | undefined;
  private layout: Layout | undefined;
  private readonly draft = new Draft();
  private out: CdrItem[] = [];

  constructor(private readonly ctx: CdrContext) {
    const o = ctx.options.asterisk;
    this.standard = standardLayouts(o.singleExtraColumn);
    if (o.custom !== undefined) {
      const names =
        typeof o.custom === "string"
          ? cdrCustomColumns(o.custom)
          : o.custom.map((n) => n.trim().toLowerCase());
      const layout = layoutOf(names);
      if (layout.dst < 0 || layout.start < 0) {
        throw new Error("the Asterisk cdr_custom layout needs at least a dst and a start column");
      }
      this.custom = layout;
      this.layout = layout;
    }
    this.splitter = new CsvRecordSplitter(
      ",",
      (fields, n, line, text) => this.row(fields, n, line, text),
      (line, text) => ctx.reject(this.out, line, "quoted field is never closed", text),
      (n) => (this.custom ? n === this.custom.count : this.standard.has(n)),
      skipMask(64, this.custom ? usedColumns(this.custom) : [...this.standard.values()].flatMap(usedColumns)),
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
    const ctx = this.ctx;
    let l = this.layout;
    if (l === undefined || l.count !== n) {
      if (this.custom) {
        ctx.reject(
          this.out,
          line,
          `expected ${this.custom.count} columns (the cdr_custom layout), found ${n}`,
          text,
        );
        return;
      }
      const next = this.standard.get(n);
      if (next === undefined) {
        ctx.reject(this.out, line, `expected 16 to 21 columns, found ${n}`, text);
        return;
      }
      if (l !== undefined) ctx.notice(line, `Master.csv layout changes here from ${l.count} to ${n} columns`);
      this.layout = l = next;
    }
    ctx.emit(this.out, line, this.read(f, l), text);
  }

  private read(f: string[], l: Layout): CallRecord | string {
    const ctx = this.ctx;
    const d = this.draft;
    d.reset();
    const clock = ctx.clock;
    const accountcode = f[l.accountcode] ?? "";
    const src = f[l.src] ?? "";
    d.account = pickAccount(ctx.options.accountFrom, accountcode, src);
    d.from = src;
    d.to = f[l.dst] ?? "";
    const startText = f[l.start] ?? "";
    const answerText = f[l.answer] ?? "";
    const endText = f[l.end] ?? "";
    if (startText === "") return "start time is empty";
    d.start = switchTime(startText, clock);
    if (Number.isNaN(d.start)) return "start time is not YYYY-MM-DD HH:MM:SS";
    if (answerText !== "") {
      d.answer = switchTime(answerText, clock);
      if (Number.isNaN(d.answer)) return "answer time is not YYYY-MM-DD HH:MM:SS";
    }
    if (endText !== "") {
      d.end = switchTime(endText, clock);
      if (Number.isNaN(d.end)) return "end time is not YYYY-MM-DD HH:MM:SS";
    }
    const durationText = f[l.duration] ?? "";
    if (durationText !== "") {
      d.duration = parseCount(durationText);
      if (d.duration < 0) return "duration is not a whole number of seconds";
    }
    const billsecText = f[l.billsec] ?? "";
    if (billsecText !== "") {
      d.billsec = parseCount(billsecText);
      if (d.billsec < 0) return "billsec is not a whole number of seconds";
    }
    const dispositionText = f[l.disposition] ?? "";
    if (dispositionText !== "") d.disposition = asteriskDisposition(dispositionText) ?? "UNKNOWN";
    const uniqueid = f[l.uniqueid] ?? "";
    d.callId =
      uniqueid !== ""
        ? uniqueid
        : stableCallId([
            accountcode,
            src,
            d.to,
            f[l.channel] ?? "",
            f[l.dstchannel] ?? "",
            startText,
            endText,
          ]);
    if (l.sourceIp >= 0) d.sourceIp = f[l.sourceIp] ?? "";
    fixRepeatedHour(d, clock, startText, answerText, endText);
    return buildRecord(d);
  }
}
