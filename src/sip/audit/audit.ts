/** One entry point for both PBX kinds. */
import { auditAsterisk } from "./asterisk-audit.js";
import { auditFreeswitch } from "./freeswitch-audit.js";
import type { AuditOptions, AuditReport, ConfigFiles } from "./types.js";

export const PBX_KINDS = ["asterisk", "freeswitch"] as const;
export type PbxKind = (typeof PBX_KINDS)[number];

export function auditPbx(kind: PbxKind, files: ConfigFiles, options: AuditOptions): AuditReport {
  return kind === "asterisk" ? auditAsterisk(files, options) : auditFreeswitch(files, options);
}
