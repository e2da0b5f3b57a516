/**
 * `mamori audit-pbx DIR`: load the directory, load the shipped common-password list, run the audit.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { auditPbx, type PbxKind } from "../../../sip/audit/audit.js";
import { parsePasswordList } from "../../../sip/audit/secrets.js";
import type { AuditReport } from "../../../sip/audit/types.js";
import { loadPbxConfig } from "./load.js";

export type DirectoryAudit = AuditReport & { readonly kind: PbxKind; readonly filesRead: number };

/** rules/weak-passwords.txt of this installation, found from this file in source or in dist/. */
export function defaultWeakPasswordsPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, "rules", "weak-passwords.txt");
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error("rules/weak-passwords.txt not found above " + fileURLToPath(import.meta.url));
}

export async function auditPbxDirectory(
  dir: string,
  options: { readonly kind?: PbxKind; readonly weakPasswordsFile?: string } = {},
): Promise<DirectoryAudit> {
  const loaded = await loadPbxConfig(dir, options.kind);
  const list = parsePasswordList(
    await readFile(options.weakPasswordsFile ?? defaultWeakPasswordsPath(), "utf8"),
  );
  const report = auditPbx(loaded.kind, loaded.files, { weakPasswords: list });
  return {
    ...report,
    warnings: [...loaded.skipped, ...report.warnings],
    kind: loaded.kind,
    filesRead: loaded.files.size,
  };
}
