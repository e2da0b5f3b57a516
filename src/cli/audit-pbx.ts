import type { Command } from "commander";
import { auditPbxDirectory } from "../adapters/ingest/pbx-config/audit-directory.js";

/**
 * `mamori audit-pbx DIR [--json]`: read an Asterisk or FreeSWITCH configuration and report the
 * weaknesses that toll fraud starts from, each with its severity and a fix. Secrets are never printed.
 */
export function registerAuditPbx(program: Command): void {
  program
    .command("audit-pbx <dir>")
    .description(
      "audit an Asterisk (/etc/asterisk) or FreeSWITCH configuration folder for toll-fraud weaknesses",
    )
    .option("--kind <kind>", "asterisk or freeswitch (detected when left out)")
    .option("--json", "print JSON for machines")
    .action(async (dir: string, o: { kind?: string; json?: boolean }) => {
      if (o.kind !== undefined && o.kind !== "asterisk" && o.kind !== "freeswitch")
        throw new Error("--kind must be asterisk or freeswitch");
      const report = await auditPbxDirectory(dir, o.kind ? { kind: o.kind } : {});
      if (o.json) {
        process.stdout.write(JSON.stringify(report, null, 2) + "\n");
      } else {
        const counts = new Map<string, number>();
        for (const f of report.findings) counts.set(f.severity, (counts.get(f.severity) ?? 0) + 1);
        const lines = [
          `${report.kind} configuration in ${dir}: ${report.filesRead} files read, ${report.findings.length} findings` +
            (counts.size ? ` (${[...counts].map(([s, n]) => `${n} ${s}`).join(", ")})` : ""),
          "",
        ];
        for (const f of report.findings) {
          lines.push(
            `${f.severity.toUpperCase().padEnd(8)} ${f.id}  ${f.file}${f.line ? `:${f.line}` : ""}${f.section ? ` [${f.section}]` : ""}`,
          );
          lines.push(`         ${f.message}`);
          lines.push(`         fix: ${f.fix}`);
          lines.push("");
        }
        process.stdout.write(lines.join("\n") + "\n");
        for (const w of report.warnings) process.stdout.write(`warning: ${w}\n`);
      }
      if (report.findings.some((f) => f.severity === "critical" || f.severity === "high"))
        process.exitCode = 3;
    });
}
