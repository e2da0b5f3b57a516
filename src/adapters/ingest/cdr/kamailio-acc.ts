/**
 * Kamailio acc, in the two shapes operators keep it:
 *
 * - syslog lines from the acc module's log backend. The text after the syslog prefix is
 *   `ACC: transaction answered: timestamp=…;method=INVITE;from_tag=…;to_tag=…;call_id=…;code=200;reason=OK`
 *   followed by the configured log_extra attributes (`src_user=…;src_ip=…;dst_ouser=…`). Other kinds are
 *   `ACC: call missed:`, `ACC: request acknowledged:` and `ACC: request accounted:`. Lines without `ACC: `
 *   (the rest of the syslog) are skipped silently.
 * - a CSV export of the `acc` / `missed_calls` tables (method, callid, sip_code, time, extra columns) or
 *   of the `acc_cdrs` table (start_time, end_time, duration and cdr_extra columns), with a header line.
 *
 * The first non-empty line decides which. INVITE and BYE transactions are paired into calls by
 * {@link AccPairing}; acc_cdrs rows are calls already.
 */
import { parseCount } from "./fields.js";
import { AccEvent, AccPairing, firstOf } from "./kamailio-calls.js";
import { KamailioTableReader, tableKind } from "./kamailio-tables.js";
import type { CdrContext } from "./record.js";
import type { CdrItem, CdrLineParser } from "./types.js";

const MARK = "ACC: ";

/** Reads `key=value;key=value` into slots for the attributes of interest. */
class AttributeReader {
  readonly values: string[];
  private readonly slots = new Map<string, number>();

  constructor(names: readonly string[]) {
    for (const name of names) if (!this.slots.has(name)) this.slots.set(name, this.slots.size);
    this.values = new Array<string>(this.slots.size).fill("");
  }

  slot(name: string): number {
    return this.slots.get(name) ?? -1;
  }

  /**
   * A piece without `=`, or whose key is not a plain name, continues the previous value: values taken
   * from SIP headers (a display name, a reason phrase) may contain `;`.
   */
  read(line: string, from: number): void {
    const values = this.values;
    values.fill("");
    let last = -1;
    let i = from;
    const len = line.length;
    while (i < len) {
      let semi = line.indexOf(";", i);
      if (semi === -1) semi = len;
      const eq = line.indexOf("=", i);
      if (eq !== -1 && eq < semi && isName(line, i, eq)) {
        last = this.slots.get(line.slice(i, eq)) ?? -1;
        if (last >= 0) values[last] = line.slice(eq + 1, semi);
      } else if (last >= 0) {
        values[last] += ";" + line.slice(i, semi);
      }
      i = semi + 1;
    }
  }
}

function isName(s: string, from: number, to: number): boolean {
  if (to === from) return false;
  for (let k = from; k < to; k++) {
    const c = s.charCodeAt(k);
    const ok =
      (c >= 97 && c <= 122) ||
      (c >= 65 && c <= 90) ||
      (c >= 48 && c <= 57) ||
      c === 95 ||
      c === 46 ||
      c === 45;
    if (!ok) return false;
  }
  return true;
}

export class KamailioAccParser implements CdrLineParser {
  private mode: "unknown" | "syslog" | "table" = "unknown";
  private readonly pairing: AccPairing;
  private readonly attrs: AttributeReader;
  private readonly slot: {
    timestamp: number;
    timeAttr: number;
    timeExten: number;
    method: number;
    callId: number;
    code: number;
  };
  private readonly accountSlots: number[];
  private readonly toSlots: number[];
  private readonly fromSlots: number[];
  private readonly sourceIpSlots: number[];
  private readonly event = new AccEvent();
  private table: KamailioTableReader | undefined;

  constructor(private readonly ctx: CdrContext) {
    const k = ctx.options.kamailio;
    const core = ["timestamp", "time_attr", "time_exten", "method", "call_id", "code"];
    this.attrs = new AttributeReader([...core, ...k.account, ...k.to, ...k.from, ...k.sourceIp]);
    const a = this.attrs;
    this.slot = {
      timestamp: a.slot("timestamp"),
      timeAttr: a.slot("time_attr"),
      timeExten: a.slot("time_exten"),
      method: a.slot("method"),
      callId: a.slot("call_id"),
      code: a.slot("code"),
    };
    this.accountSlots = k.account.map((n) => a.slot(n));
    this.toSlots = k.to.map((n) => a.slot(n));
    this.fromSlots = k.from.map((n) => a.slot(n));
    this.sourceIpSlots = k.sourceIp.map((n) => a.slot(n));
    this.pairing = new AccPairing(ctx);
  }

  push(line: string, lineNo: number, out: CdrItem[]): void {
    if (this.mode === "unknown") {
      if (line.trim() === "") return;
      const kind = line.includes(MARK) ? undefined : tableKind(line);
      if (kind === undefined) {
        this.mode = "syslog";
      } else {
        this.mode = "table";
        this.table = new KamailioTableReader(this.ctx, this.pairing, line, kind);
        return;
      }
    }
    if (this.table !== undefined) this.table.push(line, lineNo, out);
    else {
      const problem = this.syslog(line, lineNo, out);
      if (problem !== undefined) this.ctx.reject(out, lineNo, problem, line);
    }
  }

  finish(out: CdrItem[]): void {
    this.table?.finish(out);
    this.pairing.finish(out);
  }

  /** Hands an ACC line to the pairing, or says what is wrong with it. */
  private syslog(line: string, lineNo: number, out: CdrItem[]): string | undefined {
    const mark = line.indexOf(MARK);
    if (mark === -1) return undefined;
    const kindEnd = line.indexOf(": ", mark + MARK.length);
    if (kindEnd === -1) return "ACC line without attributes";
    this.attrs.read(line, kindEnd + 2);
    const v = this.attrs.values;
    const s = this.slot;
    const e = this.event;
    e.method = (v[s.method] ?? "").toUpperCase();
    e.callId = v[s.callId] ?? "";
    if (e.method === "" || e.callId === "") return "ACC line without method or call_id";
    e.code = parseCount(v[s.code] ?? "");
    if (e.code < 0) return "ACC line without a numeric code";
    e.at = accTime(v[s.timestamp] ?? "", v[s.timeAttr] ?? "", v[s.timeExten] ?? "");
    if (Number.isNaN(e.at)) return "ACC line without a valid timestamp";
    e.account = firstOf(v, this.accountSlots);
    e.from = firstOf(v, this.fromSlots);
    e.to = firstOf(v, this.toSlots);
    e.sourceIp = firstOf(v, this.sourceIpSlots);
    this.pairing.event(e, lineNo, line, out);
    return undefined;
  }
}

/**
 * Event time of an acc line: `timestamp` (seconds), refined by time_mode 1 (`time_exten`, microseconds)
 * or time_mode 2 (`time_attr`, seconds with a fraction). NaN when `timestamp` is not a number.
 */
export function accTime(timestamp: string, timeAttr: string, timeExten: string): number {
  const sec = parseCount(timestamp);
  if (sec < 0) return Number.NaN;
  const fraction = timeAttr.indexOf(".");
  if (fraction > 0 && parseCount(timeAttr.slice(0, fraction)) === sec) {
    const precise = Number(timeAttr);
    if (Number.isFinite(precise)) return Math.floor(precise * 1000);
  }
  const usec = parseCount(timeExten);
  return sec * 1000 + (usec >= 0 && usec < 1_000_000 ? Math.floor(usec / 1000) : 0);
}
