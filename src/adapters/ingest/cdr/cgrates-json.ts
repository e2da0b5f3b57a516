/**
 * CGRateS CDRs as JSON: one CDR per line, a top-level array of CDRs, or the reply of a CDRsV1.GetCDRs
 * call (`{"result": [ … ]}`). Fields are those of the CDR struct: CGRID, RunID, OriginHost, OriginID,
 * ToR, Tenant, Account, Subject, Destination, SetupTime and AnswerTime (RFC 3339; Go's zero time
 * `0001-01-01T00:00:00Z` means unset), Usage (a Duration: nanoseconds as a number, or a duration string
 * such as "1m30s" in exports), Cost, ExtraFields.
 *
 * CGRateS keeps one CDR per charging run of a call; only the runs in `runIds` (default `*default`) are
 * read, so that a call is not counted once per run.
 */
import type { CallRecord } from "../../../core/call-events.js";
import { anyDisposition } from "./disposition.js";
import { parseDecimal, parseGoDuration, stableCallId } from "./fields.js";
import { JsonObjectSplitter } from "./json-objects.js";
import { buildRecord, type CdrContext, Draft } from "./record.js";
import type { CdrItem, CdrLineParser } from "./types.js";
import { parseIsoInstant } from "./wall-clock.js";

type JsonObject = { readonly [key: string]: unknown };

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);
const text = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");

export class CgratesJsonParser implements CdrLineParser {
  private readonly splitter: JsonObjectSplitter;
  private readonly draft = new Draft();
  private out: CdrItem[] = [];

  constructor(private readonly ctx: CdrContext) {
    this.splitter = new JsonObjectSplitter(
      (doc, line) => this.document(doc, line),
      (line, reason, raw) => ctx.reject(this.out, line, reason, raw),
      ctx.options.maxDocumentChars,
    );
  }

  push(line: string, lineNo: number, out: CdrItem[]): void {
    this.out = out;
    this.splitter.push(line, lineNo);
  }

  finish(out: CdrItem[]): void {
    this.out = out;
    this.splitter.finish();
  }

  private document(doc: string, line: number): void {
    let value: unknown;
    try {
      value = JSON.parse(doc);
    } catch {
      value = undefined;
    }
    if (!isObject(value)) {
      this.ctx.reject(this.out, line, "not valid JSON", doc);
    } else if (Array.isArray(value.result) && value.OriginID === undefined && value.CGRID === undefined) {
      for (const cdr of value.result) {
        this.ctx.emit(this.out, line, isObject(cdr) ? this.cdr(cdr) : "CDR is not a JSON object");
      }
    } else {
      this.ctx.emit(this.out, line, this.cdr(value), doc);
    }
  }

  /** An RFC 3339 time; NaN when empty, malformed or Go's zero time. */
  private instant(v: unknown): number {
    const s = text(v);
    if (s === "" || s.startsWith("0001-01-01")) return Number.NaN;
    return parseIsoInstant(s, this.ctx.clock);
  }

  /** Usage in milliseconds, or NaN. */
  private usageMs(v: unknown): number {
    if (v === undefined || v === null || v === "") return 0;
    if (typeof v === "number") return Number.isFinite(v) && v >= 0 ? v / 1e6 : Number.NaN;
    const s = text(v);
    const bare = parseDecimal(s);
    if (!Number.isNaN(bare)) return this.ctx.options.cgrates.bareUsage === "s" ? bare * 1000 : bare / 1e6;
    const ns = parseGoDuration(s);
    return Number.isNaN(ns) ? ns : ns / 1e6;
  }

  private cdr(o: JsonObject): CallRecord | string {
    const ctx = this.ctx;
    const options = ctx.options.cgrates;
    const runId = text(o.RunID);
    if (runId !== "" && !options.runIds.includes(runId)) {
      return `CDR of RunID ${runId} skipped (runIds lists the runs to read)`;
    }
    const tor = text(o.ToR);
    if (tor !== "" && tor !== "*voice") return `not a voice CDR (ToR ${tor})`;
    const d = this.draft;
    d.reset();
    const account = text(o.Account);
    const tenant = text(o.Tenant);
    d.account = options.tenantInAccount && tenant !== "" && account !== "" ? `${tenant}:${account}` : account;
    d.to = text(o.Destination);
    const extra = isObject(o.ExtraFields) ? o.ExtraFields : {};
    d.from = text(extra.Caller) || text(extra.caller_id_number);
    d.sourceIp = text(extra.SourceIP) || text(extra.sip_network_ip);
    d.start = this.instant(o.SetupTime);
    if (Number.isNaN(d.start)) return "SetupTime is missing or malformed";
    d.answer = this.instant(o.AnswerTime);
    const usage = this.usageMs(o.Usage);
    if (Number.isNaN(usage)) return "Usage is not a duration";
    // A CDR with usage but without AnswerTime was answered at setup as far as anyone can tell.
    if (!Number.isFinite(d.answer) && usage > 0) d.answer = d.start;
    d.billsec = Math.round(usage / 1000);
    d.end = Number.isFinite(d.answer) ? Math.floor(d.answer + usage) : d.start;
    d.disposition = Number.isFinite(d.answer)
      ? "ANSWERED"
      : (anyDisposition(text(extra.DisconnectCause) || text(extra.HangupCause) || text(extra.hangup_cause)) ??
        "UNKNOWN");
    d.callId = text(o.OriginID) || text(o.CGRID) || stableCallId([d.account, d.to, text(o.SetupTime)]);
    return buildRecord(d);
  }
}
