/**
 * Time stamps as PBX logs print them, to epoch ms. Times without an offset are read in the context's
 * zone (UTC by default); syslog's `Jan  5 03:12:45` has no year, so the caller must say which (a pure
 * parser never asks the clock).
 */
import { fromLocal, isValidTimeZone } from "../../../core/local-time.js";
import type { ParseContext } from "./types.js";

export type TimeResult =
  | { readonly ok: true; readonly at: number }
  | { readonly ok: false; readonly error: string };

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s*(Z|[+-]\d{2}:?\d{2})?$/;
const LEGACY = /^([A-Za-z]{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;
const EPOCH = /^(\d{9,11})(?:([-.])(\d{1,9}))?$/;

const fail = (error: string): TimeResult => ({ ok: false, error });

/** Milliseconds from a fraction-of-second digit string ("123456" -> 123). */
function fractionMs(digits: string | undefined): number {
  if (!digits) return 0;
  return Math.floor(Number((digits + "00").slice(0, 3)));
}

function validDate(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60) return false;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return d <= days;
}

function local(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  ms: number,
  ctx: ParseContext,
): TimeResult {
  if (!validDate(y, mo, d, h, mi, s)) return fail("invalid date or time");
  const zone = ctx.timeZone ?? "UTC";
  if (zone === "UTC") return { ok: true, at: Date.UTC(y, mo - 1, d, h, mi, s) + ms };
  if (!isValidTimeZone(zone)) return fail(`unknown time zone ${JSON.stringify(zone)}`);
  return { ok: true, at: fromLocal(y, mo, d, h, mi, s, zone) + ms };
}

/** Parses ISO 8601 (with or without offset), `YYYY-MM-DD HH:MM:SS[.f]`, syslog `Mon DD HH:MM:SS` and epoch `sec[-usec]`. */
export function parseLogTime(text: string, ctx: ParseContext): TimeResult {
  const t = text.trim();
  let m = ISO.exec(t);
  if (m) {
    const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const ms = fractionMs(m[7]);
    const off = m[8];
    if (off === undefined) return local(y, mo, d, h, mi, s, ms, ctx);
    if (!validDate(y, mo, d, h, mi, s)) return fail("invalid date or time");
    let offsetMin = 0;
    if (off !== "Z") {
      const digits = off.replace(":", "");
      const oh = Number(digits.slice(1, 3));
      const om = Number(digits.slice(3, 5));
      if (oh > 23 || om > 59) return fail("invalid UTC offset");
      offsetMin = (oh * 60 + om) * (digits[0] === "-" ? -1 : 1);
    }
    return { ok: true, at: Date.UTC(y, mo - 1, d, h, mi, s) + ms - offsetMin * 60_000 };
  }
  m = LEGACY.exec(t);
  if (m) {
    const mo = MONTHS[m[1]!.toLowerCase()];
    if (mo === undefined) return fail(`unknown month ${JSON.stringify(m[1])}`);
    if (ctx.year === undefined) return fail("time stamp has no year; give the parser a year");
    return local(ctx.year, mo, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), fractionMs(m[6]), ctx);
  }
  m = EPOCH.exec(t);
  if (m) {
    const secs = Number(m[1]) * 1000;
    if (m[2] === ".") return { ok: true, at: secs + fractionMs(m[3]) };
    // Asterisk's older EventTV is seconds-microseconds: the digits after "-" count microseconds.
    const usec = m[3] ? Number(m[3]) : 0;
    if (usec > 999_999) return fail("microseconds out of range");
    return { ok: true, at: secs + Math.floor(usec / 1000) };
  }
  return fail(`unrecognised time stamp ${JSON.stringify(t.slice(0, 40))}`);
}
