import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseScannerList, type ScannerList } from "../sip/scanner-list.js";

export const SCANNER_FILE = "scanner-user-agents.yaml";

/**
 * Reads the scanner User-Agent list from a rules directory (or a file given directly). This is an
 * edge: a missing or malformed file throws an Error naming the file, the line and the problem, and
 * the service refuses to start rather than run the PBX guard without the list the operator expects.
 */
export function loadScannerList(rulesDirOrFile: string): ScannerList {
  const path = rulesDirOrFile.endsWith(".yaml") ? rulesDirOrFile : join(rulesDirOrFile, SCANNER_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new Error(`cannot read scanner list ${path}: ${reason}`, { cause });
  }
  const parsed = parseScannerList(text, path);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}
