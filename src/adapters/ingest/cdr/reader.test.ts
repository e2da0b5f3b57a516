import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { fixture } from "../../../../test/support/paths.js";
import {
  type CdrItem,
  cdrFormats,
  cdrReaderOptionsSchema,
  createCdrReader,
  createCdrStats,
  readCdrBatches,
  readCdrFile,
  readCdrFileBatches,
  readCdrStream,
} from "./index.js";

const master16 = readFileSync(fixture("cdr", "asterisk", "Master-16.csv"));

async function collect(items: AsyncIterable<CdrItem>): Promise<CdrItem[]> {
  const out: CdrItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** The same bytes cut into small chunks, so that lines and UTF-8 sequences straddle chunk ends. */
function chunked(bytes: Uint8Array, size: number): Readable {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

test("the formats are exactly the CLI's", () => {
  assert.deepEqual(
    [...cdrFormats],
    ["asterisk-csv", "freeswitch-csv", "freeswitch-json", "kamailio-acc", "cgrates-json", "csv"],
  );
});

test("chunk boundaries, CRLF line ends, a BOM and multi-byte characters change nothing", async () => {
  const whole = await collect(readCdrStream(Readable.from([master16]), "m", "asterisk-csv"));
  const crlf = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from(master16.toString("utf8").replaceAll("\n", "\r\n").replace("Tanaka", "田中")),
  ]);
  for (const size of [1, 3, 7, 64]) {
    assert.deepEqual(
      await collect(readCdrStream(chunked(crlf, size), "m", "asterisk-csv")),
      whole,
      `chunks of ${size}`,
    );
  }
  assert.equal(whole.length, 5);
});

test("a file without a final line break still yields its last row", async () => {
  const text = master16.toString("utf8").trimEnd();
  const items = await collect(readCdrStream(Readable.from([text]), "m", "asterisk-csv"));
  assert.equal(items.length, 5);
  assert.equal(items[4]?.type, "record");
});

test("an over-long line is rejected and skipped without holding it in memory", async () => {
  const long = `"${"x".repeat(5000)}`;
  const input = chunked(Buffer.from(`${long}\n${master16.toString("utf8")}`), 512);
  const stats = createCdrStats();
  const items = await collect(readCdrStream(input, "m", "asterisk-csv", { maxLineLength: 1024 }, stats));
  assert.deepEqual(items[0], {
    type: "rejected",
    rejected: { source: "m", line: 1, reason: "line longer than 1024 characters" },
  });
  assert.deepEqual(
    items.slice(1).map((i) => i.type === "record" && i.pos.line),
    [2, 3, 4, 5, 6],
  );
  assert.equal(stats.lines, 6);
  assert.equal(stats.records, 5);
});

test("gzip-compressed rotated files are read, in batches too", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mamori-cdr-"));
  try {
    const path = join(dir, "Master.csv.1.gz");
    writeFileSync(path, gzipSync(master16));
    const items = await collect(readCdrFile(path, "asterisk-csv"));
    assert.equal(items.length, 5);
    assert.equal(items[0]?.type === "record" && items[0].pos.source, path);
    let n = 0;
    for await (const batch of readCdrFileBatches(path, "asterisk-csv")) n += batch.length;
    assert.equal(n, 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a missing file is an error of the read, at the edge", async () => {
  await assert.rejects(collect(readCdrFile(fixture("cdr", "no-such-file.csv"), "asterisk-csv")), /ENOENT/);
});

test("createCdrReader reads lines from any iterable, and strips CR and BOM itself", async () => {
  const lines = master16.toString("utf8").trimEnd().split("\n");
  const first = `\ufeff${lines[0]}\r`;
  const reader = createCdrReader("asterisk-csv", { timeZone: "Asia/Tokyo" });
  const fromArray = await collect(reader([first, ...lines.slice(1)], "lines"));
  async function* slowly() {
    for (const line of lines) yield line;
  }
  const fromAsync = await collect(reader(slowly(), "lines"));
  assert.deepEqual(fromArray, fromAsync);
  assert.equal(fromArray.length, 5);
});

test("bad options fail when the reader is made, naming the key", () => {
  assert.throws(() => createCdrReader("asterisk-csv", { timeZone: "Asia/Tokio" }), /timeZone/);
  assert.throws(() => createCdrReader("asterisk-csv", { encoding: "klingon" }), /encoding/);
  assert.throws(
    () => createCdrReader("kamailio-acc", { kamailio: { unpaired: "drop" } } as never),
    /kamailio\.unpaired/,
  );
  assert.throws(() => createCdrReader("asterisk-csv", { colour: "red" } as never), /colour/);
  assert.equal(cdrReaderOptionsSchema.safeParse({ timeZone: "Asia/Tokyo", keepRaw: false }).success, true);
});

test("keepRaw: false leaves the line out of rejections", async () => {
  const items = await collect(createCdrReader("asterisk-csv", { keepRaw: false })(["a,b"], "s"));
  assert.deepEqual(items, [
    { type: "rejected", rejected: { source: "s", line: 1, reason: "expected 16 to 21 columns, found 2" } },
  ]);
});

test("batches hold the items of one chunk and stats add up", async () => {
  const stats = createCdrStats();
  const batches: CdrItem[][] = [];
  for await (const batch of readCdrBatches(chunked(master16, 300), "m", "asterisk-csv", {}, stats))
    batches.push(batch);
  assert.ok(batches.length > 1);
  assert.equal(batches.flat().length, 5);
  assert.deepEqual(stats, {
    lines: 5,
    records: 5,
    rejected: 0,
    rejectedByReason: {},
    notices: 0,
    firstNotices: [],
  });
});

test("stopping early releases the file, and iterating again reads it again", async () => {
  const items = readCdrFile(fixture("cdr", "asterisk", "Master-16.csv"), "asterisk-csv");
  let first: CdrItem | undefined;
  for await (const item of items) {
    first = item;
    break;
  }
  assert.equal(first?.type, "record");
  assert.equal((await collect(items)).length, 5);
});
