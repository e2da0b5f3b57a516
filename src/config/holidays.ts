import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";

const holidayFile = z
  .object({
    calendar: z.string().regex(/^[a-z]{2,10}$/),
    dates: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)),
  })
  .strict();

/** Loads every `holidays-*.yaml` in the rules folder: calendar name → set of YYYY-MM-DD. */
export function loadHolidays(rulesDir: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of readdirSync(rulesDir)) {
    if (!/^holidays-.*\.ya?ml$/.test(f)) continue;
    const path = join(rulesDir, f);
    const r = holidayFile.safeParse(parse(readFileSync(path, "utf8")));
    if (!r.success)
      throw new Error(
        `${path}: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      );
    out.set(r.data.calendar, new Set(r.data.dates));
  }
  return out;
}
