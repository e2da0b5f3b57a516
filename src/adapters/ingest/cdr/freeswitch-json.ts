/**
 * FreeSWITCH mod_json_cdr: one JSON document per call, written to its own file or posted, and often
 * collected into JSON lines. Channel variables sit under `variables`, URL-encoded (the module's default
 * encode-values); times are `start_epoch`/`answer_epoch`/`end_epoch` in seconds and `*_uepoch` in
 * microseconds, 0 meaning "never". When a variable is missing, the `callflow` caller profiles (one per
 * transfer, an object in old versions, an array now) and their `times` (microseconds) stand in.
 */
import type { CallRecord } from "../../../core/call-events.js";
import { hangupCauseDisposition } from "./disposition.js";
import { epochMicrosToMs, epochSecondsToMs, parseCount, stableCallId, urlDecode } from "./fields.js";
import { JsonObjectSplitter } from "./json-objects.js";
import { buildRecord, type CdrContext, Draft, pickAccount } from "./record.js";
import type { CdrItem, CdrLineParser } from "./types.js";

type JsonObject = { readonly [key: string]: unknown };

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);
const text = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");

/** What the callflow says: the first profile (the number as dialled) and the span of all profiles' times. */
type Callflow = { profile: JsonObject; created: number; answered: number; hungUp: number };

function readCallflow(callflow: unknown): Callflow {
  const entries = Array.isArray(callflow) ? callflow.filter(isObject) : isObject(callflow) ? [callflow] : [];
  let first: JsonObject | undefined;
  let firstIndex = Number.POSITIVE_INFINITY;
  let created = Number.NaN;
  let answered = Number.NaN;
  let hungUp = Number.NaN;
  for (const entry of entries) {
    const index = parseCount(text(entry.profile_index));
    if (first === undefined || (index >= 0 && index < firstIndex)) {
      first = entry;
      if (index >= 0) firstIndex = index;
    }
    const times = isObject(entry.times) ? entry.times : {};
    const c = epochMicrosToMs(text(times.created_time));
    const a = epochMicrosToMs(text(times.answered_time));
    const h = epochMicrosToMs(text(times.hangup_time));
    if (c > 0 && !(c >= created)) created = c;
    if (a > 0 && !(a >= answered)) answered = a;
    if (h > 0 && !(h <= hungUp)) hungUp = h;
  }
  const profile = first !== undefined && isObject(first.caller_profile) ? first.caller_profile : {};
  return { profile, created, answered, hungUp };
}

export class FreeswitchJsonParser implements CdrLineParser {
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
    this.ctx.emit(this.out, line, this.read(doc), doc);
  }

  private read(doc: string): CallRecord | string {
    const ctx = this.ctx;
    let cdr: unknown;
    try {
      cdr = JSON.parse(doc);
    } catch {
      return "not valid JSON";
    }
    if (!isObject(cdr)) return "not valid JSON";
    const vars = isObject(cdr.variables) ? cdr.variables : {};
    const v = (name: string): string => urlDecode(text(vars[name]));
    const flow = readCallflow(cdr.callflow);
    const p = flow.profile;
    const d = this.draft;
    d.reset();
    const caller = v("caller_id_number") || text(p.caller_id_number) || v("ani") || text(p.ani);
    const accountcode = v("accountcode");
    d.account = pickAccount(ctx.options.accountFrom, accountcode, caller);
    d.from = caller;
    d.to = v("destination_number") || text(p.destination_number);
    d.start = this.time(vars, "start", flow.created);
    d.answer = this.time(vars, "answer", flow.answered);
    d.end = this.time(vars, "end", flow.hungUp);
    if (Number.isNaN(d.start)) return "start time (start_epoch) is missing or malformed";
    const billsec = v("billsec");
    if (billsec !== "") {
      d.billsec = parseCount(billsec);
      if (d.billsec < 0) return "billsec is not a whole number of seconds";
    }
    const duration = v("duration");
    if (duration !== "") d.duration = parseCount(duration);
    d.disposition = Number.isFinite(d.answer) ? "ANSWERED" : hangupCauseDisposition(v("hangup_cause"));
    d.callId = v("uuid") || text(p.uuid) || stableCallId([accountcode, caller, d.to, doc]);
    d.sourceIp = v("sip_network_ip") || text(p.network_addr);
    return buildRecord(d);
  }

  /** `<base>_uepoch`, else `<base>_epoch`, else the callflow's time; NaN when absent, malformed or 0. */
  private time(vars: JsonObject, base: string, fallback: number): number {
    const micro = urlDecode(text(vars[`${base}_uepoch`]));
    let ms = micro !== "" ? epochMicrosToMs(micro) : Number.NaN;
    if (Number.isNaN(ms)) {
      const sec = urlDecode(text(vars[`${base}_epoch`]));
      ms = sec !== "" ? epochSecondsToMs(sec) : Number.NaN;
    }
    if (Number.isNaN(ms)) ms = fallback;
    return ms > 0 ? ms : Number.NaN;
  }
}
