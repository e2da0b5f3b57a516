import { type ChildProcess, spawn } from "node:child_process";

/** Starts a benchmark peer and waits until it prints a line matching `ready`. */
export async function startProcess(
  cmd: string,
  args: string[],
  ready: RegExp,
  env: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<{ child: ChildProcess; match: RegExpExecArray; output: () => string; stop: () => Promise<void> }> {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const deadline = Date.now() + timeoutMs;
  let match: RegExpExecArray | null = ready.exec(out);
  while (!match && Date.now() < deadline && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 50));
    match = ready.exec(out);
  }
  if (!match) {
    child.kill("SIGKILL");
    throw new Error(`${cmd} did not become ready:\n${out.slice(-2000)}`);
  }
  return {
    child,
    match,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null) return;
      const done = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await done;
      clearTimeout(t);
    },
  };
}

/** Runs a command to completion (bounded) and returns its output. */
export async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<string> {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const t = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  clearTimeout(t);
  if (code !== 0) throw new Error(`${cmd} exited with ${code}:\n${out.slice(-2000)}`);
  return out;
}
