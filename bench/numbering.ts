import { loadavg } from "node:os";
import examples from "libphonenumber-js/examples.mobile.json";
import { getCountries, getExampleNumber } from "libphonenumber-js/max";
import type { DialContext } from "../src/calls/number-info.js";
import { classifyNumber, classifyNumberWithLibrary, type NumberingData } from "../src/calls/numbering.js";
import { shippedRulesDir } from "../src/config/paths.js";
import { loadNumberingData } from "../src/config/rules-files.js";
import { fmt, machine } from "./lib/stats.js";

/**
 * Nanoseconds per classifyNumber() call, by dial form, for numbers seen for the first time (every call
 * a different number, as in a toll-fraud sweep or spread-out office traffic) and for numbers seen
 * again (500 numbers cycled). The anchor is classifyNumberWithLibrary(): the plain libphonenumber
 * reading with its own memo, measured on other numbers of the same forms in the same run. Each figure
 * is the median of ROUNDS rounds, each on fresh numbers, so that a neighbour's burst or a GC pause
 * does not decide it. BENCH_NUMBERS sets the first-sight sample per form and round for classifyNumber
 * (the library, 20 times slower, gets a fifth).
 */
const FIRST_SIGHT = Number(process.env.BENCH_NUMBERS ?? 10_000);
const ROUNDS = 5;
const REPEATED_SET = 500;
const REPEATED_CALLS = 100_000;

type Classify = typeof classifyNumber;
type Call = { readonly dial: string; readonly ctx: DialContext };
type Form = { readonly name: string; readonly make: (r: Rng) => Call };

class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    // mulberry32: fast, deterministic, good enough to spread numbers.
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  digits(n: number, first = "0123456789"): string {
    let s = first[Math.floor(this.next() * first.length)] ?? "0";
    for (let i = 1; i < n; i++) s += String(Math.floor(this.next() * 10));
    return s;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
}

const JP: DialContext = { country: "JP" };
const JP_PBX: DialContext = { country: "JP", outsideLinePrefix: "0" };
const US: DialContext = { country: "US" };
const US_PBX: DialContext = { country: "US", outsideLinePrefix: "9" };
const GB: DialContext = { country: "GB" };

// Example mobile numbers of every region, their last four digits replaced per call.
const worldHeads = getCountries()
  .map((c) => getExampleNumber(c, examples)?.number.slice(1))
  .filter((d): d is string => d !== undefined && d.length > 7)
  .map((d) => d.slice(0, -4));
const world = (r: Rng) => r.pick(worldHeads) + r.digits(4);
const jpNational = (r: Rng) =>
  r.pick([
    () => "03" + r.digits(8, "123456789"),
    () => "06" + r.digits(8, "123456789"),
    () => r.pick(["090", "080", "070"]) + r.digits(8, "123456789"),
    () => "050" + r.digits(8, "123456789"),
    () => "0120" + r.digits(6),
    () => "045" + r.digits(7, "23456789"),
  ])();
const areaCodes = ["212", "213", "312", "415", "617", "202", "305", "713", "206", "646", "787"];
const nanp = (r: Rng) => r.pick(areaCodes) + r.digits(7, "23456789");
const crossBorder = ["876", "613", "416", "604", "809", "242", "268", "664", "441", "284"];

const forms: readonly Form[] = [
  { name: "+E.164, 240 regions", make: (r) => ({ dial: "+" + world(r), ctx: JP }) },
  {
    name: "IDD 010 / 011 / 00 + E.164",
    make: (r) =>
      r.pick([
        () => ({ dial: "010" + world(r), ctx: JP }),
        () => ({ dial: "011" + world(r), ctx: US }),
        () => ({ dial: "00" + world(r), ctx: GB }),
      ])(),
  },
  { name: "JP national 03 / 06 / 090 / 050 / 0120", make: (r) => ({ dial: jpNational(r), ctx: JP }) },
  {
    name: "JP PBX: outside-line 0 + national or 010",
    make: (r) =>
      r.next() < 0.75 ? { dial: "0" + jpNational(r), ctx: JP_PBX } : { dial: "0010" + world(r), ctx: JP_PBX },
  },
  {
    name: "NANP national, 10 or 1+10 digits, ±outside-line 9",
    make: (r) =>
      r.pick([
        () => ({ dial: nanp(r), ctx: US }),
        () => ({ dial: "1" + nanp(r), ctx: US }),
        () => ({ dial: "9" + nanp(r), ctx: US_PBX }),
        () => ({ dial: "91" + nanp(r), ctx: US_PBX }),
      ])(),
  },
  {
    name: "NANP cross-border +1 876 / 613 / 809 … from US",
    make: (r) => ({ dial: "+1" + r.pick(crossBorder) + r.digits(7, "23456789"), ctx: US }),
  },
  {
    name: "satellite +881 / +870 / +882",
    make: (r) =>
      r.pick([
        () => ({ dial: "+8816" + r.digits(8), ctx: JP }),
        () => ({ dial: "+87077" + r.digits(7), ctx: JP }),
        () => ({ dial: "01088216" + r.digits(8), ctx: JP }),
      ])(),
  },
  {
    name: "toll-fraud sweep: +232 76 random",
    make: (r) => ({ dial: (r.next() < 0.5 ? "+23276" : "01023276") + r.digits(6), ctx: JP }),
  },
];

const mix: Form = {
  name: "**mix of all forms above**",
  make: (r) => r.pick(forms).make(r),
};

/**
 * n different calls of one form; the set of dials already used keeps every call a first sight. The
 * JSON round trip hands the numbers over as the HTTP API does: built by concatenation they would be
 * rope strings, and the first regular expression to read one would pay for flattening it.
 */
function sample(form: Form, n: number, r: Rng, used: Set<string>): Call[] {
  const calls: Call[] = [];
  for (let tries = 0; calls.length < n && tries < n * 20; tries++) {
    const call = form.make(r);
    const key = `${call.ctx.country}/${call.ctx.outsideLinePrefix ?? ""}/${call.dial}`;
    if (used.has(key)) continue;
    used.add(key);
    calls.push(call);
  }
  return JSON.parse(JSON.stringify(calls)) as Call[];
}

let sink = 0;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** ns per call over the whole array, timed as one loop (a clock read per call would cost more). */
function time(classify: Classify, calls: readonly Call[], data: NumberingData, rounds = 1): number {
  const start = process.hrtime.bigint();
  for (let k = 0; k < rounds; k++) {
    for (const { dial, ctx } of calls) {
      const result = classify(dial, ctx, data);
      sink += result.ok ? result.value.e164.length : 1;
    }
  }
  return Number(process.hrtime.bigint() - start) / (calls.length * rounds);
}

function repeated(classify: Classify, calls: readonly Call[], data: NumberingData): number {
  time(classify, calls, data, 4); // fill the memo and warm the code
  return time(classify, calls, data, Math.max(1, Math.round(REPEATED_CALLS / calls.length)));
}

export async function benchNumbering(): Promise<string> {
  const data = loadNumberingData(shippedRulesDir());
  const used = new Set<string>();
  const r = new Rng(20251122);
  // Warm both paths on numbers that are not measured.
  for (const form of forms) {
    const warm = sample(form, 2000, r, used);
    time(classifyNumber, warm, data);
    time(classifyNumberWithLibrary, warm, data);
  }
  const load = loadavg()[0] ?? Number.NaN;
  const rows: string[] = [];
  for (const form of [...forms, mix]) {
    const fastFirst: number[] = [];
    const libFirst: number[] = [];
    const fastAgain: number[] = [];
    const libAgain: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      fastFirst.push(time(classifyNumber, sample(form, FIRST_SIGHT, r, used), data));
      libFirst.push(time(classifyNumberWithLibrary, sample(form, FIRST_SIGHT / 5, r, used), data));
      const again = sample(form, REPEATED_SET, r, used);
      fastAgain.push(repeated(classifyNumber, again, data));
      libAgain.push(repeated(classifyNumberWithLibrary, again, data));
    }
    const [ff, lf, fa, la] = [median(fastFirst), median(libFirst), median(fastAgain), median(libAgain)];
    rows.push(
      `| ${form.name} | ${fmt(ff)} | ${fmt(lf)} | ${fmt(lf / ff, 1)}× | ${fmt(fa)} | ${fmt(la)} | ${fmt(la / fa, 1)}× |`,
    );
  }
  return [
    `## Number classification (classifyNumber), ns per call`,
    `machine: ${machine()}`,
    "",
    "| dial form | first sight | library | speed-up | repeated | library | speed-up |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    `Median of ${ROUNDS} rounds. First sight: ${fmt(FIRST_SIGHT)} different numbers per form and round (library: ${fmt(FIRST_SIGHT / 5)}); repeated: ${REPEATED_SET} numbers, ${fmt(REPEATED_CALLS)} calls. "library" is classifyNumberWithLibrary, the plain libphonenumber-js reading with its own memo, on other numbers of the same form in the same run. Load average at the start: ${fmt(load, 1)}. (checksum ${sink % 1000})`,
  ].join("\n");
}
