import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, found from this file whether it runs from source (tsx) or from dist/. */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "rules"))) return dir;
    dir = dirname(dir);
  }
  throw new Error("repository root not found above " + fileURLToPath(import.meta.url));
}

export const repoRoot = findRoot();
export const fixture = (...parts: string[]): string => join(repoRoot, "test", "fixtures", ...parts);
