/**
 * Any CSV of calls, read through a column map (see column-map.ts): columns by header name or by
 * position, times as ISO 8601, epoch seconds, epoch milliseconds or local wall-clock time.
 */
import type { CallRecord } from "../../../core/call-events.js";
import type { CdrColumnKey, CdrColumnMap } from "./column-map.js";
import { CsvRecordSplitter } from "./csv-line.js";
import { anyDisposition } from "./disposition.js";
import { epochSecondsToMs, parseDecimal, stableCallId, wholeSeconds } from "./fields.js";
import { buildRecord, type CdrContext, Draft, fixRepeatedHour, pickAccount } from "./record.js";
import type { CdrItem, CdrLineParser } from "./types.js";
import { parseIsoInstant, parseWallClock, ZoneClock } from "./wall-clock.js";

type Indexes = { [K in CdrColumnKey]: number };

const cell = (f: readonly string[], i: number): string => (i >= 0 ? (f[i] ?? "").trim() : "");

export class GenericCsvParser implements CdrLineParser {
  private readonly map: CdrColumnMap;
  private readonly clock: ZoneClock;
  private readonly splitter: CsvRecordSplitter;
  private readonly draft = new Draft();
  private idx: Indexes | undefined;
  private width = 0;
  private headerProblem = "";
  private out: CdrItem[] = [];

  constructor(private readonly ctx: CdrContext) {
    const map = ctx.options.columnMap;
    if (map === undefined) throw new Error("the csv CDR format needs a columnMap");
    this.map = map;
    this.clock = map.timeZone !== undefined ? new ZoneClock(map.timeZone) : ctx.clock;
    if (!map.header) {
      this.idx = this.resolve((ref) => (typeof ref === "number" ? ref : -1));
      this.width = Math.max(...Object.values(this.idx)) + 1;
    }
    this.splitter = new CsvRecordSplitter(
      map.delimiter ?? ",",
      (fields, n, line, text) => this.row(fields, n, line, text),
      (line, text) => ctx.reject(this.out, line, "quoted field is never closed", text),
      (n) => (this.idx === undefined ? true : this.map.header ? n === this.width : n >= this.width),
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

  private resolve(find: (ref: string | number) => number): Indexes {
    const m = this.map;
    const at = (ref: string | number | undefined): number => (ref === undefined ? -1 : find(ref));
    return {
      callId: at(m.callId),
      account: at(m.account),
      to: at(m.to),
      from: at(m.from),
      start: at(m.start),
      answer: at(m.answer),
      end: at(m.end),
      duration: at(m.duration),
      billsec: at(m.billsec),
      disposition: at(m.disposition),
      sourceIp: at(m.sourceIp),
    };
  }

  private header(fields: string[], n: number, line: number, text: string): void {
    const names = fields.slice(0, n).map((f) => f.trim());
    const lower = names.map((f) => f.toLowerCase());
    const missing: string[] = [];
    this.idx = this.resolve((ref) => {
      if (typeof ref === "number") return ref < n ? ref : -1;
      const exact = names.indexOf(ref);
      const i = exact >= 0 ? exact : lower.indexOf(ref.toLowerCase());
      if (i < 0) missing.push(ref);
      return i;
    });
    this.width = n;
    if (missing.length > 0) {
      this.headerProblem = `header has no column ${missing.map((m) => `"${m}"`).join(", ")} named in the column map`;
      this.ctx.reject(this.out, line, this.headerProblem, text);
    }
  }

  private time(s: string): number {
    switch (this.map.timeFormat) {
      case "iso":
        return parseIsoInstant(s, this.clock);
      case "epoch":
        return epochSecondsToMs(s);
      case "epoch-ms": {
        const v = parseDecimal(s);
        return Number.isNaN(v) ? v : Math.floor(v);
      }
      case "local": {
        const wall = parseWallClock(s);
        return Number.isNaN(wall) ? wall : this.clock.toEpoch(wall);
      }
    }
  }

  private row(f: string[], n: number, line: number, text: string): void {
    const ctx = this.ctx;
    const idx = this.idx;
    if (idx === undefined) this.header(f, n, line, text);
    else if (this.headerProblem !== "") ctx.reject(this.out, line, this.headerProblem, text);
    else if (this.map.header ? n !== this.width : n < this.width) {
      ctx.reject(this.out, line, `expected ${this.width} columns, found ${n}`, text);
    } else {
      ctx.emit(this.out, line, this.read(f, idx, text), text);
    }
  }

  private read(f: string[], idx: Indexes, text: string): CallRecord | string {
    const ctx = this.ctx;
    const d = this.draft;
    d.reset();
    const from = cell(f, idx.from);
    d.account = pickAccount(ctx.options.accountFrom, cell(f, idx.account), from);
    d.from = from;
    d.to = cell(f, idx.to);
    const startText = cell(f, idx.start);
    d.start = this.time(startText);
    if (Number.isNaN(d.start)) return `start time is missing or not ${this.map.timeFormat}`;
    const answerText = cell(f, idx.answer);
    if (answerText !== "" && answerText !== "0") {
      d.answer = this.time(answerText);
      if (Number.isNaN(d.answer)) return `answer time is not ${this.map.timeFormat}`;
    }
    const endText = cell(f, idx.end);
    if (endText !== "") {
      d.end = this.time(endText);
      if (Number.isNaN(d.end)) return `end time is not ${this.map.timeFormat}`;
    }
    const duration = cell(f, idx.duration);
    if (duration !== "") {
      d.duration = wholeSeconds(duration);
      if (d.duration < 0) return "duration is not a number of seconds";
    }
    const billsec = cell(f, idx.billsec);
    if (billsec !== "") {
      d.billsec = wholeSeconds(billsec);
      if (d.billsec < 0) return "billsec is not a number of seconds";
    }
    d.disposition = anyDisposition(cell(f, idx.disposition));
    d.sourceIp = cell(f, idx.sourceIp);
    d.callId = cell(f, idx.callId) || stableCallId([text]);
    if (this.map.timeFormat === "local") fixRepeatedHour(d, this.clock, startText, answerText, endText);
    return buildRecord(d);
  }
}
