/**
 * Telephone numbers as Japanese PBXs send them to the carrier. Benign destinations are Japanese fixed,
 * mobile, free-dial and IP numbers and a few foreign business numbers; fraud destinations are the ranges
 * that revenue-share fraud pays out on. Subscriber digits are random; only the shape is real.
 */
import type { Prng } from "./prng.js";

/**
 * How a PBX dials out: national numbers with the trunk 0 (`0312345678`, international `010…`); the same
 * behind an outside-line digit (`00312345678`, `0010…`); E.164 (`+81312345678`); or national mostly and
 * E.164 for the calls that come through a SIP trunk that normalises them.
 */
export const dialStyles = ["national", "outside-line", "e164", "mixed"] as const;
export type DialStyle = (typeof dialStyles)[number];

const FIXED_AREAS: readonly { area: string; weight: number }[] = [
  { area: "3", weight: 35 }, // Tokyo: 03-XXXX-XXXX
  { area: "6", weight: 15 }, // Osaka
  { area: "45", weight: 8 }, // Yokohama
  { area: "52", weight: 8 }, // Nagoya
  { area: "11", weight: 4 }, // Sapporo
  { area: "92", weight: 5 }, // Fukuoka
  { area: "75", weight: 4 }, // Kyoto
  { area: "78", weight: 4 }, // Kobe
  { area: "22", weight: 3 }, // Sendai
  { area: "82", weight: 3 }, // Hiroshima
  { area: "98", weight: 2 }, // Naha
];
const AREA_WEIGHTS = FIXED_AREAS.map((a) => a.weight);

/** A Japanese number in national form with its trunk 0 (`0312345678`, `09012345678`). */
export function japaneseNumber(rng: Prng, mobileShare = 0.35): string {
  const x = rng.next();
  if (x < mobileShare) return "0" + rng.pick(["90", "80", "70"]) + rng.digits(8, true);
  if (x < mobileShare + 0.05) return "0120" + rng.digits(6, true);
  if (x < mobileShare + 0.1) return "050" + rng.digits(8, true);
  const area = FIXED_AREAS[rng.weighted(AREA_WEIGHTS)]?.area ?? "3";
  return "0" + area + rng.digits(9 - area.length, true);
}

/** A domestic national number (with trunk 0) as the PBX sends it. */
export function dialDomestic(national: string, style: DialStyle, rng: Prng): string {
  switch (style) {
    case "national":
      return national;
    case "outside-line":
      return "0" + national;
    case "e164":
      return "+81" + national.slice(1);
    case "mixed":
      return rng.chance(0.2) ? "+81" + national.slice(1) : national;
  }
}

/** An international number (E.164 digits without '+') as the PBX sends it from Japan. */
export function dialInternational(e164: string, style: DialStyle, rng: Prng): string {
  switch (style) {
    case "national":
      return "010" + e164;
    case "outside-line":
      return "0010" + e164;
    case "e164":
      return "+" + e164;
    case "mixed":
      return rng.chance(0.2) ? "+" + e164 : "010" + e164;
  }
}

/** Countries Japanese businesses call, with a number maker and the local hours they call them in (JST). */
export type BusinessCountry = {
  readonly country: string;
  readonly number: (rng: Prng) => string;
  /** Hours of the Japanese day (start, end) when calls to this country are usual. */
  readonly hours: readonly [number, number];
  /** How often a Japanese company that calls abroad calls this country, relatively. */
  readonly weight: number;
};

export const businessCountries: readonly BusinessCountry[] = [
  {
    country: "US",
    number: (r) =>
      "1" + r.pick(["212", "415", "646", "312", "213", "206", "617"]) + r.int(2, 9) + r.digits(6),
    hours: [8, 10.5],
    weight: 3,
  },
  {
    country: "CN",
    number: (r) =>
      r.chance(0.5)
        ? "86" + r.pick(["10", "21"]) + r.digits(8, true)
        : "861" + r.pick(["38", "39", "50"]) + r.digits(8),
    hours: [10, 18],
    weight: 3,
  },
  {
    country: "KR",
    number: (r) => (r.chance(0.5) ? "822" + r.digits(8, true) : "8210" + r.digits(8, true)),
    hours: [9.5, 18],
    weight: 2,
  },
  {
    country: "GB",
    number: (r) => "4420" + r.pick(["7", "3", "8"]) + r.digits(7),
    hours: [16, 19.5],
    weight: 2,
  },
  {
    country: "DE",
    number: (r) => "49" + r.pick(["30", "89", "69", "40"]) + r.digits(8, true),
    hours: [16, 19.5],
    weight: 2,
  },
  { country: "FR", number: (r) => "331" + r.digits(8, true), hours: [16, 19.5], weight: 1 },
  // On the carriers' advisory list, yet a real trading partner for a few companies.
  { country: "LT", number: (r) => "3705" + r.int(2, 9) + r.digits(6), hours: [15, 21], weight: 0.5 },
];

/** A revenue-share destination: a range the fraudster rents numbers in. */
export type FraudRange = { readonly label: string; readonly stem: string; readonly rest: number };

/** E.164 stems (digits without '+') and how many random digits complete a number. */
export const fraudRanges = {
  sierraLeone: { label: "Sierra Leone mobile", stem: "23276", rest: 6 },
  sierraLeone2: { label: "Sierra Leone mobile", stem: "23277", rest: 6 },
  guinea: { label: "Guinea mobile", stem: "22462", rest: 7 },
  somalia: { label: "Somalia", stem: "25261", rest: 7 },
  saoTome: { label: "São Tomé", stem: "23998", rest: 5 },
  iridium: { label: "Iridium satellite", stem: "8816", rest: 8 },
  latviaPremium: { label: "Latvia premium rate", stem: "37190", rest: 6 },
  lithuaniaPremium: { label: "Lithuania premium rate", stem: "370900", rest: 5 },
  ukPersonal: { label: "UK personal numbers", stem: "4470", rest: 8 },
  cuba: { label: "Cuba mobile", stem: "535", rest: 7 },
  timorLeste: { label: "Timor-Leste", stem: "67077", rest: 6 },
  guineaBissau: { label: "Guinea-Bissau", stem: "24595", rest: 7 },
  maldives: { label: "Maldives", stem: "9607", rest: 6 },
  papuaNewGuinea: { label: "Papua New Guinea", stem: "6757", rest: 7 },
  nauru: { label: "Nauru", stem: "67455", rest: 5 },
  tonga: { label: "Tonga", stem: "6767", rest: 6 },
  solomon: { label: "Solomon Islands", stem: "6777", rest: 6 },
  latvia: { label: "Latvia", stem: "3712", rest: 7 },
  liechtenstein: { label: "Liechtenstein", stem: "4237", rest: 6 },
  gambia: { label: "Gambia", stem: "2207", rest: 6 },
  // Expensive but on no risk list: where a careful fraudster hops to.
  fiji: { label: "Fiji", stem: "6799", rest: 6 },
  bhutan: { label: "Bhutan", stem: "97517", rest: 6 },
  mongolia: { label: "Mongolia", stem: "97688", rest: 6 },
  ecuador: { label: "Ecuador", stem: "59399", rest: 7 },
  bangladesh: { label: "Bangladesh", stem: "88017", rest: 8 },
  pakistan: { label: "Pakistan", stem: "92300", rest: 7 },
  nigeria: { label: "Nigeria", stem: "234803", rest: 7 },
  kenya: { label: "Kenya", stem: "2547", rest: 8 },
  iraq: { label: "Iraq", stem: "96477", rest: 8 },
} as const satisfies Record<string, FraudRange>;

export const numberIn = (range: FraudRange, rng: Prng): string => range.stem + rng.digits(range.rest);
