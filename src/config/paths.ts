import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The shipped rule pack, found next to the package whether running from source or from dist/. */
export function shippedRulesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "rules");
    if (existsSync(join(candidate, "risk-destinations.yaml"))) return candidate;
    dir = dirname(dir);
  }
  throw new Error("the shipped rules folder was not found; set rulesDir in the configuration");
}

export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const f = join(dir, "package.json");
    if (existsSync(f)) {
      try {
        return (JSON.parse(readFileSync(f, "utf8")) as { version?: string }).version ?? "0.0.0";
      } catch {
        return "0.0.0";
      }
    }
    dir = dirname(dir);
  }
  return "0.0.0";
}

/** The operator console's production build (`dist/console` beside package.json), if it was built. */
export function builtConsoleDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json"))) {
      const built = join(dir, "dist", "console");
      return existsSync(join(built, "index.html")) ? built : undefined;
    }
    dir = dirname(dir);
  }
  return undefined;
}
