/**
 * Reads a PBX configuration directory into memory for the (pure) audit: every .conf or .xml file
 * below it, by path relative to it. Bounded, because the directory may be a customer's upload: at most
 * MAX_FILES files of MAX_FILE_BYTES each, MAX_DEPTH folders deep, symbolic links not followed.
 */
import { existsSync } from "node:fs";
import { lstat, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { PbxKind } from "../../../sip/audit/audit.js";

export const MAX_FILES = 5000;
export const MAX_FILE_BYTES = 4 * 1024 * 1024;
export const MAX_DEPTH = 8;

export type LoadedConfig = {
  readonly kind: PbxKind;
  readonly files: ReadonlyMap<string, string>;
  /** Files left out and why (too big, too many, unreadable). */
  readonly skipped: readonly string[];
};

const ASTERISK_MARKERS = ["pjsip.conf", "sip.conf", "extensions.conf", "manager.conf", "asterisk.conf"];
const FREESWITCH_MARKERS = ["freeswitch.xml", "vars.xml", "sip_profiles", "autoload_configs"];

/** Which PBX a directory configures, or undefined when it looks like neither. */
export function detectPbxKind(dir: string): PbxKind | undefined {
  if (ASTERISK_MARKERS.some((m) => existsSync(join(dir, m)))) return "asterisk";
  if (FREESWITCH_MARKERS.some((m) => existsSync(join(dir, m)))) return "freeswitch";
  return undefined;
}

export async function loadPbxConfig(dir: string, kind?: PbxKind): Promise<LoadedConfig> {
  const detected = kind ?? detectPbxKind(dir);
  if (!detected) {
    throw new Error(
      `${dir} looks like neither an Asterisk nor a FreeSWITCH configuration directory (no ${[...ASTERISK_MARKERS, ...FREESWITCH_MARKERS].join(", ")})`,
    );
  }
  const wanted = detected === "asterisk" ? /\.conf$/i : /\.xml$/i;
  const files = new Map<string, string>();
  const skipped: string[] = [];
  const walk = async (rel: string, depth: number): Promise<void> => {
    const entries = await readdir(join(dir, rel), { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isSymbolicLink()) {
        skipped.push(`${path}: symbolic link not followed`);
        continue;
      }
      if (e.isDirectory()) {
        if (depth >= MAX_DEPTH) skipped.push(`${path}: deeper than ${MAX_DEPTH} folders`);
        else await walk(path, depth + 1);
        continue;
      }
      if (!e.isFile() || !wanted.test(e.name)) continue;
      if (files.size >= MAX_FILES) {
        skipped.push(`${path}: more than ${MAX_FILES} files`);
        continue;
      }
      const st = await lstat(join(dir, path));
      if (st.size > MAX_FILE_BYTES) {
        skipped.push(`${path}: larger than ${MAX_FILE_BYTES} bytes`);
        continue;
      }
      try {
        files.set(path, await readFile(join(dir, path), "utf8"));
      } catch (e) {
        skipped.push(`${path}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  };
  await walk("", 0);
  return { kind: detected, files, skipped };
}
