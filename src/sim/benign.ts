/**
 * The calls customers make themselves, one account and one day at a time: offices in business hours
 * (quiet at weekends and on holidays), international offices' few calls abroad in the hours the other side
 * works, call centres' agents dialling all day, and night-shift sites around the clock.
 */
import type { CallDraft, DayInfo } from "./days.js";
import { atHour } from "./days.js";
import { dialDomestic, dialInternational, japaneseNumber } from "./numbers.js";
import { extensionOf, type SimAccount } from "./population.js";
import type { Prng } from "./prng.js";

/** Relative call volume by hour of an office day, 08:00 to 19:00 (the lunch hour dips). */
const OFFICE_HOURS = [0.3, 1, 1.3, 1.2, 0.5, 1, 1.2, 1.2, 1.1, 0.8, 0.4, 0.15];

type Outcome = { disposition: CallDraft["disposition"]; ring: number; billsec: number };

/** How a call ends, with its ring and talk time; `talk` draws the seconds of an answered call. */
function outcome(rng: Prng, answered: number, talk: () => number): Outcome {
  const x = rng.next();
  if (x < answered)
    return { disposition: "ANSWERED", ring: rng.int(2, 15), billsec: Math.max(1, Math.round(talk())) };
  const rest = (x - answered) / (1 - answered);
  if (rest < 0.62) return { disposition: "NO ANSWER", ring: rng.int(10, 40), billsec: 0 };
  if (rest < 0.9) return { disposition: "BUSY", ring: rng.int(1, 4), billsec: 0 };
  return { disposition: "FAILED", ring: rng.int(0, 1), billsec: 0 };
}

function push(out: CallDraft[], a: SimAccount, rng: Prng, to: string, start: number, o: Outcome): void {
  out.push({
    account: a.index,
    from: extensionOf(a, rng),
    to,
    start,
    ring: o.ring,
    billsec: o.billsec,
    disposition: o.disposition,
    sourceIp: a.pbxIp,
    incident: -1,
  });
}

/** A national number the account calls: mostly its usual contacts, the most usual most often. */
function domesticNumber(a: SimAccount, rng: Prng, contactShare: number, mobileShare: number): string {
  if (rng.chance(contactShare)) {
    const u = rng.next();
    return a.contacts[Math.floor(u * u * a.contacts.length)] as string;
  }
  return japaneseNumber(rng, mobileShare);
}

function officeDay(a: SimAccount, day: DayInfo, rng: Prng, out: CallDraft[]): void {
  const saturday = day.weekday === 6 && !day.holiday && a.worksSaturday;
  const working = day.workday || saturday;
  const mean = working ? a.lines * a.callsPerLine * (saturday ? 0.4 : 1) : a.lines * 0.03;
  const n = rng.poisson(mean);
  for (let i = 0; i < n; i++) {
    const hour = working ? 8 + rng.weighted(OFFICE_HOURS) + rng.next() : rng.range(9, 18);
    const to = dialDomestic(domesticNumber(a, rng, 0.72, 0.35), a.style, rng);
    push(
      out,
      a,
      rng,
      to,
      atHour(day, hour),
      outcome(rng, 0.72, () => Math.min(3600, rng.logNormal(75, 1))),
    );
  }
  if (a.abroad.length > 0 && day.workday) {
    const calls = rng.poisson(a.internationalPerWeek / 5);
    for (let i = 0; i < calls; i++) {
      // The first country is the main partner; calls go out in the hours it works.
      const c = a.abroad[rng.weighted(a.abroad.map((_, k) => 1 / (k + 1)))] ?? a.abroad[0];
      if (!c) break;
      const [from, to] = c.country.hours;
      const e164 = rng.chance(0.8) ? rng.pick(c.numbers) : c.country.number(rng);
      const talk = () => (rng.chance(0.1) ? rng.range(1800, 6000) : Math.min(3600, rng.logNormal(360, 0.9)));
      push(
        out,
        a,
        rng,
        dialInternational(e164, a.style, rng),
        atHour(day, rng.range(from, to)),
        outcome(rng, 0.8, talk),
      );
    }
  }
}

function callCentreDay(a: SimAccount, day: DayInfo, rng: Prng, out: CallDraft[]): void {
  const saturday = day.weekday === 6 && !day.holiday && a.worksSaturday;
  if (!day.workday && !saturday) return;
  const agents = saturday ? Math.ceil(a.lines / 2) : a.lines;
  for (let agent = 0; agent < agents; agent++) {
    // Early and late shifts of eight hours, with an hour's break in the middle.
    const shift = rng.chance(0.7) ? 9 : 12.5;
    const breakAt = shift + 3.5;
    let t = atHour(day, shift + rng.range(0, 0.4));
    const stop = atHour(day, shift + 8);
    const ext = String(a.firstExtension + agent);
    while (t < stop) {
      if (t >= atHour(day, breakAt) && t < atHour(day, breakAt + 1))
        t = atHour(day, breakAt + 1 + rng.range(0, 0.1));
      const o = outcome(rng, 0.5, () => Math.min(1800, rng.logNormal(110, 0.8)));
      const to = dialDomestic(japaneseNumber(rng, 0.6), a.style, rng);
      out.push({
        account: a.index,
        from: ext,
        to,
        start: t,
        ring: o.ring,
        billsec: o.billsec,
        disposition: o.disposition,
        sourceIp: a.pbxIp,
        incident: -1,
      });
      t += (o.ring + o.billsec) * 1000 + Math.round(rng.logNormal(180, 0.6)) * 1000;
    }
  }
}

function nightShiftDay(a: SimAccount, day: DayInfo, rng: Prng, out: CallDraft[]): void {
  const quiet = day.workday ? 1 : 0.8;
  const perHour = (a.lines * a.callsPerLine) / 24;
  for (let hour = 0; hour < 24; hour++) {
    const daytime = hour >= 8 && hour < 20;
    const n = rng.poisson(perHour * (daytime ? 1.35 : 0.65) * quiet);
    for (let i = 0; i < n; i++) {
      const to = dialDomestic(domesticNumber(a, rng, 0.7, 0.4), a.style, rng);
      push(
        out,
        a,
        rng,
        to,
        atHour(day, hour + rng.next()),
        outcome(rng, 0.78, () => Math.min(2400, rng.logNormal(80, 0.9))),
      );
    }
  }
}

/** Appends one account's own calls of one day to `out` (unsorted). */
export function benignDay(a: SimAccount, day: DayInfo, rng: Prng, out: CallDraft[]): void {
  switch (a.kind) {
    case "office":
    case "international-office":
      officeDay(a, day, rng, out);
      return;
    case "call-centre":
      callCentreDay(a, day, rng, out);
      return;
    case "night-shift":
      nightShiftDay(a, day, rng, out);
      return;
  }
}
