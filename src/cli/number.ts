import type { Command } from "commander";
import { classifyNumber } from "../calls/numbering.js";
import { shippedRulesDir } from "../config/paths.js";
import { loadNumberingData } from "../config/rules-files.js";

/** `mamori number NUMBER`: what the engine knows about a number: country, type, risk, rate. */
export function registerNumber(program: Command): void {
  program
    .command("number <number>")
    .description("what Mamori knows about a number: country, type, risk and rate")
    .option("--country <cc>", "the caller's country, for national and prefixed numbers", "JP")
    .option("--outside-line <digits>", "the PBX's outside-line prefix, e.g. 0")
    .option("--rules <dir>", "rules folder (default: the shipped pack)")
    .option("--json", "print JSON")
    .action((num: string, o: { country: string; outsideLine?: string; rules?: string; json?: boolean }) => {
      const data = loadNumberingData(o.rules ?? shippedRulesDir());
      const ctx = o.outsideLine
        ? { country: o.country.toUpperCase(), outsideLinePrefix: o.outsideLine }
        : { country: o.country.toUpperCase() };
      const r = classifyNumber(num, ctx, data);
      if (!r.ok) {
        process.stderr.write(`${num}: ${r.error.message} (${r.error.code})\n`);
        process.exitCode = 2;
        return;
      }
      const n = r.value;
      const out = {
        input: n.input,
        e164: "+" + n.e164,
        country: n.country ?? null,
        countryCallingCode: "+" + n.countryCallingCode,
        type: n.type,
        valid: n.valid,
        international: n.international,
        risk: n.risk ? { level: n.risk.level, prefix: "+" + n.risk.prefix, reason: n.risk.reason } : null,
        rate: n.rate
          ? {
              prefix: "+" + n.rate.prefix,
              perMinute: n.rate.perMinute,
              perCall: n.rate.perCall,
              currency: data.currency,
              description: n.rate.description,
            }
          : null,
      };
      if (o.json) {
        process.stdout.write(JSON.stringify(out, null, 2) + "\n");
        return;
      }
      const lines = [
        `number         ${out.e164}  (dialled ${num})`,
        `country        ${out.country ?? "unknown"} ${out.countryCallingCode}${n.international ? "  international" : "  domestic"}`,
        `type           ${out.type}${n.valid ? "" : "  (not a valid number for its region)"}`,
        `risk           ${out.risk ? `${out.risk.level}: ${out.risk.reason} (${out.risk.prefix})` : "none listed"}`,
        `rate           ${out.rate ? `${out.rate.perMinute} ${data.currency}/min${out.rate.perCall ? ` + ${out.rate.perCall} per call` : ""} (${out.rate.description}, ${out.rate.prefix})` : "no tariff entry"}`,
      ];
      process.stdout.write(lines.join("\n") + "\n");
    });
}
