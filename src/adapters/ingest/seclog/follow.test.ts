import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, describe, it } from "node:test";
import { followFile, type LineReader, type LogLine, readFileLines, readStreamLines } from "./follow.js";

const dir = mkdtempSync(join(tmpdir(), "mamori-follow-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The next `n` lines, failing after `ms` instead of hanging. */
async function take(reader: LineReader, n: number, ms = 4000): Promise<LogLine[]> {
  const it = reader[Symbol.asyncIterator]();
  const out: LogLine[] = [];
  const deadline = Date.now() + ms;
  while (out.length < n) {
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((r) => {
      timer = setTimeout(() => r("timeout"), Math.max(0, left));
    });
    const r = await Promise.race([it.next(), timeout]);
    clearTimeout(timer);
    if (r === "timeout") throw new Error(`timed out with ${out.length}/${n} lines: ${JSON.stringify(out)}`);
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

const texts = (lines: LogLine[]) => lines.map((l) => [l.line, l.lineNo]);
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("reading once", () => {
  it("reads every line of a file, the last one without a newline too, CRLF or not", async () => {
    const path = join(dir, "once.log");
    writeFileSync(path, "one\r\ntwo\n\nthree");
    const lines = await take(readFileLines(path), 10);
    assert.deepEqual(texts(lines), [
      ["one", 1],
      ["two", 2],
      ["", 3],
      ["three", 4],
    ]);
    assert.equal(lines[0]?.source, path);
  });

  it("cuts lines longer than the limit and says so", async () => {
    const path = join(dir, "long.log");
    writeFileSync(path, "x".repeat(100) + "\nshort\n");
    const lines = await take(readFileLines(path, { maxLineBytes: 10, source: "long" }), 10);
    assert.deepEqual(lines, [
      { line: "x".repeat(10), lineNo: 1, source: "long", truncated: true },
      { line: "short", lineNo: 2, source: "long" },
    ]);
  });

  it("reads a stream in chunks that split lines and multi-byte characters", async () => {
    const bytes = Buffer.from("東京 line\nsecond 行\n");
    const chunks = [bytes.subarray(0, 2), bytes.subarray(2, 9), bytes.subarray(9, 15), bytes.subarray(15)];
    const lines = await take(readStreamLines(Readable.from(chunks)), 10);
    assert.deepEqual(texts(lines), [
      ["東京 line", 1],
      ["second 行", 2],
    ]);
    assert.equal(lines[0]?.source, "stdin");
  });

  it("close() ends a stream that never finishes", async () => {
    const stream = new Readable({ read() {} });
    stream.push("a\n");
    const reader = readStreamLines(stream, { source: "pipe" });
    assert.deepEqual(texts(await take(reader, 1)), [["a", 1]]);
    const pending = reader[Symbol.asyncIterator]().next();
    await reader.close();
    assert.equal((await pending).done, true);
  });
});

describe("following", () => {
  it("starts at the end of an existing file and reads what is appended, a partial line once complete", async () => {
    const path = join(dir, "tail.log");
    writeFileSync(path, "old 1\nold 2\n");
    const reader = followFile(path, { pollMs: 10 });
    try {
      const first = take(reader, 2);
      await wait(50);
      appendFileSync(path, "new 1\nnew ");
      await wait(50);
      appendFileSync(path, "2\n");
      assert.deepEqual(texts(await first), [
        ["new 1", 1],
        ["new 2", 2],
      ]);
    } finally {
      await reader.close();
    }
  });

  it("follows rename-and-create rotation without losing the old file's last lines", async () => {
    const path = join(dir, "rename.log");
    writeFileSync(path, "");
    const reader = followFile(path, { pollMs: 10, from: "start" });
    try {
      const got = take(reader, 5);
      appendFileSync(path, "a1\na2\n");
      await wait(60);
      renameSync(path, path + ".1");
      // The writer has not reopened yet: its last line, unterminated, still goes to the old file.
      appendFileSync(path + ".1", "a3\na4");
      await wait(60);
      writeFileSync(path, "b1\n");
      assert.deepEqual(texts(await got), [
        ["a1", 1],
        ["a2", 2],
        ["a3", 3],
        ["a4", 4],
        ["b1", 1],
      ]);
    } finally {
      await reader.close();
    }
  });

  it("follows copytruncate rotation", async () => {
    const path = join(dir, "copytruncate.log");
    writeFileSync(path, "");
    const reader = followFile(path, { pollMs: 10, from: "start" });
    try {
      const got = take(reader, 3);
      appendFileSync(path, "before 1\nbefore 2\n");
      await wait(60);
      truncateSync(path, 0);
      await wait(60);
      appendFileSync(path, "after\n");
      assert.deepEqual(texts(await got), [
        ["before 1", 1],
        ["before 2", 2],
        ["after", 1],
      ]);
    } finally {
      await reader.close();
    }
  });

  it("waits for a file that does not exist yet and reads it from its start", async () => {
    const path = join(dir, "later.log");
    const reader = followFile(path, { pollMs: 10 });
    try {
      const got = take(reader, 1);
      await wait(40);
      writeFileSync(path, "first\n");
      assert.deepEqual(texts(await got), [["first", 1]]);
    } finally {
      await reader.close();
    }
  });

  it("close() ends an iteration that is waiting for data, and can be called twice", async () => {
    const path = join(dir, "idle.log");
    writeFileSync(path, "");
    const reader = followFile(path, { pollMs: 1000 });
    const pending = reader[Symbol.asyncIterator]().next();
    await wait(30);
    const started = Date.now();
    await reader.close();
    await reader.close();
    assert.equal((await pending).done, true);
    assert.ok(Date.now() - started < 500);
  });
});
