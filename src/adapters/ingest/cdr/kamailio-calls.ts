/**
 * Kamailio's acc module accounts SIP transactions, not calls: the INVITE's final reply (answered, or
 * a failure) and later the BYE arrive as separate events. This table pairs them by Call-ID in event
 * time. It is bounded: an answered INVITE whose BYE has not come within the horizon, or that is the
 * oldest when the table is full, or that is still open at the end of the input, is given up on. By
 * default it then becomes a record with the answer time as its end and billsec 0 (the attempt and the
 * answer are facts; a duration would be a guess) and a notice says so; with `unpaired: "reject"` it is
 * a rejection instead.
 */
import { sipCodeDisposition } from "./disposition.js";
import { buildRecord, type CdrContext, Draft } from "./record.js";
import type { CdrItem } from "./types.js";

type OpenCall = {
  readonly callId: string;
  readonly account: string;
  readonly from: string;
  readonly to: string;
  readonly sourceIp: string;
  readonly answer: number;
  readonly line: number;
};

/** The fields of one accounted transaction, filled by the syslog or the table reader. */
export class AccEvent {
  method = "";
  callId = "";
  code = 0;
  at = Number.NaN;
  account = "";
  from = "";
  to = "";
  sourceIp = "";
}

/** The first value among the given slots that is not empty or a database NULL. */
export function firstOf(values: readonly string[], slots: readonly number[]): string {
  for (const s of slots) {
    const v = values[s] ?? "";
    if (v !== "" && v !== "<null>" && v !== "NULL" && v !== "\\N") return v;
  }
  return "";
}

const RECENT_FAILURES = 10_000;
const EXPIRY_CHECK_MS = 60_000;

export class AccPairing {
  private readonly open = new Map<string, OpenCall>();
  /** Call-IDs of recent failures: `call missed` and a failed `transaction answered` may both report one. */
  private readonly failed = new Set<string>();
  private readonly draft = new Draft();
  private lastExpiryCheck = Number.NEGATIVE_INFINITY;

  constructor(private readonly ctx: CdrContext) {}

  /** Takes one accounted transaction; pushes the records (and rejections) it completes. */
  event(e: AccEvent, line: number, raw: string, out: CdrItem[]): void {
    const ctx = this.ctx;
    if (e.at - this.lastExpiryCheck >= EXPIRY_CHECK_MS) {
      this.lastExpiryCheck = e.at;
      this.expire(e.at, out);
    }
    if (e.method === "BYE") {
      const call = this.open.get(e.callId);
      if (call === undefined) {
        ctx.reject(
          out,
          line,
          "BYE without an answered INVITE (its INVITE is not in this input, or was given up on)",
          raw,
        );
        return;
      }
      this.open.delete(e.callId);
      this.emit(call, e.at, call.line, out);
      return;
    }
    if (e.method !== "INVITE" || e.code < 200) return;
    if (this.open.has(e.callId)) return; // a re-INVITE inside the call, answered or not
    if (e.code < 300) {
      if (e.to === "" || e.account === "") {
        ctx.reject(out, line, e.to === "" ? "destination number is empty" : "account is empty", raw);
        return;
      }
      this.open.set(e.callId, {
        callId: e.callId,
        account: e.account,
        from: e.from,
        to: e.to,
        sourceIp: e.sourceIp,
        answer: e.at,
        line,
      });
      if (this.open.size > ctx.options.kamailio.maxOpenCalls)
        this.giveUpOldest("the pairing table is full (maxOpenCalls)", out);
      return;
    }
    if (this.failed.has(e.callId)) return;
    this.failed.add(e.callId);
    if (this.failed.size > RECENT_FAILURES) {
      const oldest = this.failed.values().next().value;
      if (oldest !== undefined) this.failed.delete(oldest);
    }
    const d = this.fill(e.callId, e.account, e.from, e.to, e.sourceIp);
    d.start = e.at;
    d.end = e.at;
    d.billsec = 0;
    d.disposition = sipCodeDisposition(e.code);
    this.push(line, raw, out);
  }

  /** End of input: every call still waiting for its BYE is given up on. */
  finish(out: CdrItem[]): void {
    while (this.open.size > 0) this.giveUpOldest("no BYE before the end of the input", out);
  }

  private expire(now: number, out: CdrItem[]): void {
    const horizon = this.ctx.options.kamailio.horizonMs;
    for (const call of this.open.values()) {
      if (now - call.answer < horizon) break;
      this.open.delete(call.callId);
      this.giveUp(call, `no BYE within ${horizon / 1000} s`, out);
    }
  }

  private giveUpOldest(why: string, out: CdrItem[]): void {
    const call = this.open.values().next().value;
    if (call === undefined) return;
    this.open.delete(call.callId);
    this.giveUp(call, why, out);
  }

  private giveUp(call: OpenCall, why: string, out: CdrItem[]): void {
    if (this.ctx.options.kamailio.unpaired === "reject") {
      this.ctx.reject(out, call.line, "answered INVITE never paired with a BYE");
      return;
    }
    this.ctx.notice(call.line, `answered INVITE ${call.callId}: ${why}; recorded without a duration`);
    this.emit(call, call.answer, call.line, out);
  }

  private emit(call: OpenCall, end: number, line: number, out: CdrItem[]): void {
    const d = this.fill(call.callId, call.account, call.from, call.to, call.sourceIp);
    d.start = call.answer;
    d.answer = call.answer;
    d.end = end;
    d.disposition = "ANSWERED";
    this.push(line, undefined, out);
  }

  private fill(callId: string, account: string, from: string, to: string, sourceIp: string): Draft {
    const d = this.draft;
    d.reset();
    d.callId = callId;
    d.account = account;
    d.from = from;
    d.to = to;
    d.sourceIp = sourceIp;
    return d;
  }

  private push(line: number, raw: string | undefined, out: CdrItem[]): void {
    this.ctx.emit(out, line, buildRecord(this.draft), raw);
  }
}
