import type { Lang } from "./i18n.ts";

/** Numbers, money and times as an operator reads them, in the console's language. */
const locale = (lang: Lang) => (lang === "ja" ? "ja-JP" : "en-GB");

export const num = (lang: Lang, n: number | null | undefined): string =>
  n === null || n === undefined || !Number.isFinite(n) ? "—" : Math.round(n).toLocaleString(locale(lang));

export const yen = (lang: Lang, n: number | null | undefined): string =>
  n === null || n === undefined || !Number.isFinite(n)
    ? "—"
    : `¥${Math.round(n).toLocaleString(locale(lang))}`;

export const when = (lang: Lang, iso: string | null | undefined): string => {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(locale(lang), {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
};

/** Compact JSON for evidence: one line per key, nested values as JSON. */
export const evidenceRows = (e: unknown): [string, string][] =>
  e && typeof e === "object"
    ? Object.entries(e as Record<string, unknown>).map(([k, v]) => [
        k,
        typeof v === "string" ? v : JSON.stringify(v),
      ])
    : [];
