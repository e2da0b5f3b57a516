import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { type Config, configSchema } from "./schema.js";

/** A configuration problem, with every offending key named; the service refuses to start on one. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`${source}: invalid configuration\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => {
    const where = i.path.length ? i.path.join(".") : "(top level)";
    if (i.code === "unrecognized_keys")
      return `${where}: unknown key${i.keys.length > 1 ? "s" : ""} ${i.keys.map((k) => `"${k}"`).join(", ")}`;
    return `${where}: ${i.message}`;
  });
}

/** Environment variables that override the file, for the few settings that deployments change. */
export const envOverrides = {
  MAMORI_HOST: "server.host",
  MAMORI_PORT: "server.port",
  MAMORI_DB: "store.sqlite",
  MAMORI_LOG_LEVEL: "logging.level",
} as const;

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    const next = cur[k];
    if (typeof next !== "object" || next === null) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys.at(-1) as string] = value;
}

export type ConfigInput = {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Command-line settings, applied last (e.g. `--port`). */
  overrides?: Record<string, unknown> | undefined;
};

export function loadConfig(input: ConfigInput = {}): Config {
  let raw: unknown = {};
  const source = input.file ?? "configuration";
  if (input.file) {
    let text: string;
    try {
      text = readFileSync(input.file, "utf8");
    } catch (e) {
      throw new ConfigError(input.file, [`cannot read the file: ${(e as Error).message}`]);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (e) {
      throw new ConfigError(input.file, [`not valid YAML: ${(e as Error).message}`]);
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw))
      throw new ConfigError(input.file, ["the file must hold a YAML mapping (key: value) at the top level"]);
  }
  const merged = structuredClone(raw) as Record<string, unknown>;
  const env = input.env ?? {};
  for (const [name, path] of Object.entries(envOverrides)) {
    const v = env[name];
    if (v === undefined || v === "") continue;
    setPath(merged, path, path === "server.port" ? Number(v) : v);
  }
  for (const [path, v] of Object.entries(input.overrides ?? {}))
    if (v !== undefined) setPath(merged, path, v);
  const r = configSchema.safeParse(merged);
  if (!r.success) throw new ConfigError(source, describeIssues(r.error.issues));
  return r.data;
}
