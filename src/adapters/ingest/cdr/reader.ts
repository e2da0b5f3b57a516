/**
 * The CDR readers: one format name and options in; records and rejections out, line by line, in bounded
 * memory. A bad row never stops a file; it becomes a `rejected` item with its file and line (1-based;
 * the first line of a record that spans lines, the line where a JSON document starts). Items come in
 * input order, except that kamailio-acc reports an answered call when its BYE arrives, at the line of
 * its INVITE.
 *
 * Files are read in large chunks and cut into lines with indexOf (node:readline costs an event and a
 * string copy per line); the synchronous format parser takes every line of a chunk before the reader
 * awaits again, so the per-line cost is parsing alone. `readCdrBatches` hands out the items of a chunk
 * together for consumers that want that speed too; `readCdrFile` yields them one by one.
 */
import { createReadStream } from "node:fs";
import { pipeline, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { AsteriskCsvParser } from "./asterisk-csv.js";
import { CgratesJsonParser } from "./cgrates-json.js";
import { FreeswitchCsvParser } from "./freeswitch-csv.js";
import { FreeswitchJsonParser } from "./freeswitch-json.js";
import { GenericCsvParser } from "./generic-csv.js";
import { KamailioAccParser } from "./kamailio-acc.js";
import { type CdrReaderOptions, type ResolvedCdrOptions, resolveCdrOptions } from "./options.js";
import { CdrContext } from "./record.js";
import type { CdrFormat, CdrItem, CdrLineParser, CdrNotice } from "./types.js";
import { ZoneClock } from "./wall-clock.js";

/** The synchronous parser of one input; see CdrLineParser. */
export function createCdrLineParser(
  format: CdrFormat,
  options: ResolvedCdrOptions,
  source: string,
): CdrLineParser {
  const ctx = new CdrContext(source, options, new ZoneClock(options.timeZone));
  switch (format) {
    case "asterisk-csv":
      return new AsteriskCsvParser(ctx);
    case "freeswitch-csv":
      return new FreeswitchCsvParser(ctx);
    case "freeswitch-json":
      return new FreeswitchJsonParser(ctx);
    case "kamailio-acc":
      return new KamailioAccParser(ctx);
    case "cgrates-json":
      return new CgratesJsonParser(ctx);
    case "csv":
      return new GenericCsvParser(ctx);
  }
}

export type CdrReader = (
  lines: AsyncIterable<string> | Iterable<string>,
  source: string,
) => AsyncIterable<CdrItem>;

/**
 * A reader of one format over lines that the caller already has (a socket, a test). Options are
 * validated here, so a bad option fails at once rather than at the first row.
 */
export function createCdrReader(format: CdrFormat, options: CdrReaderOptions = {}): CdrReader {
  const resolved = resolveCdrOptions(format, options);
  createCdrLineParser(format, resolved, "");
  return (lines, source) => readLines(createCdrLineParser(format, resolved, source), lines);
}

async function* readLines(
  parser: CdrLineParser,
  lines: AsyncIterable<string> | Iterable<string>,
): AsyncGenerator<CdrItem> {
  const out: CdrItem[] = [];
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    let line = raw;
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    if (lineNo === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    parser.push(line, lineNo, out);
    if (out.length > 0) {
      for (const item of out) yield item;
      out.length = 0;
    }
  }
  parser.finish(out);
  yield* out;
}

/** What a read amounted to. `rejectedByReason` keys are the rejection reasons. */
export type CdrStats = {
  lines: number;
  records: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  notices: number;
  /** The first notices (at most 20), for the operator to read. */
  firstNotices: CdrNotice[];
};

export const createCdrStats = (): CdrStats => ({
  lines: 0,
  records: 0,
  rejected: 0,
  rejectedByReason: {},
  notices: 0,
  firstNotices: [],
});

export function countCdrItem(stats: CdrStats, item: CdrItem): void {
  if (item.type === "record") {
    stats.records++;
    return;
  }
  stats.rejected++;
  const reason = item.rejected.reason;
  stats.rejectedByReason[reason] = (stats.rejectedByReason[reason] ?? 0) + 1;
}

export function countCdrNotice(stats: CdrStats, notice: CdrNotice): void {
  stats.notices++;
  if (stats.firstNotices.length < 20) stats.firstNotices.push(notice);
}

/** Bytes or text of one CDR input. */
export type CdrInput = Readable | AsyncIterable<Uint8Array | string>;

/**
 * Reads one input, handing out the items of each chunk together. `stats`, when given, is updated as
 * the read goes (lines at the end).
 */
export async function* readCdrBatches(
  input: CdrInput,
  source: string,
  format: CdrFormat,
  options: CdrReaderOptions = {},
  stats?: CdrStats,
): AsyncGenerator<CdrItem[]> {
  const counted: CdrReaderOptions =
    stats === undefined
      ? options
      : {
          ...options,
          onNotice: (n) => {
            countCdrNotice(stats, n);
            options.onNotice?.(n);
          },
        };
  const resolved = resolveCdrOptions(format, counted);
  const parser = createCdrLineParser(format, resolved, source);
  const decoder = new TextDecoder(resolved.encoding);
  const max = resolved.maxLineLength;
  const tooLong = `line longer than ${max} characters`;
  let out: CdrItem[] = [];
  let carry = "";
  let skipping = false;
  let lineNo = 0;
  const take = (line: string): void => {
    lineNo++;
    if (line.length > max) {
      out.push({ type: "rejected", rejected: { source, line: lineNo, reason: tooLong } });
      return;
    }
    let text = line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
    if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    parser.push(text, lineNo, out);
  };
  try {
    for await (const chunk of input) {
      const text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
      let from = 0;
      for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", from)) {
        if (skipping) {
          skipping = false;
          lineNo++;
        } else {
          take(carry === "" ? text.slice(from, nl) : carry + text.slice(from, nl));
        }
        carry = "";
        from = nl + 1;
      }
      if (!skipping && from < text.length) {
        carry = carry === "" ? text.slice(from) : carry + text.slice(from);
        if (carry.length > max) {
          out.push({ type: "rejected", rejected: { source, line: lineNo + 1, reason: tooLong } });
          skipping = true;
          carry = "";
        }
      }
      if (out.length > 0) {
        if (stats) for (const item of out) countCdrItem(stats, item);
        yield out;
        out = [];
      }
    }
    const tail = carry + decoder.decode();
    if (skipping) lineNo++;
    else if (tail !== "") take(tail);
    parser.finish(out);
    if (out.length > 0) {
      if (stats) for (const item of out) countCdrItem(stats, item);
      yield out;
    }
  } finally {
    if (stats) stats.lines += lineNo;
  }
}

/**
 * Reads one input item by item. The items are served from the batches by a plain iterator: an async
 * generator yielding each item would cost three times as much per item.
 */
export function readCdrStream(
  input: CdrInput,
  source: string,
  format: CdrFormat,
  options: CdrReaderOptions = {},
  stats?: CdrStats,
): AsyncIterable<CdrItem> {
  return { [Symbol.asyncIterator]: () => itemsOf(readCdrBatches(input, source, format, options, stats)) };
}

function itemsOf(batches: AsyncGenerator<CdrItem[]>): AsyncIterator<CdrItem> {
  let batch: CdrItem[] = [];
  let i = 0;
  return {
    async next(): Promise<IteratorResult<CdrItem>> {
      while (i >= batch.length) {
        const r = await batches.next();
        if (r.done) return { done: true, value: undefined };
        batch = r.value;
        i = 0;
      }
      return { done: false, value: batch[i++] as CdrItem };
    },
    async return(): Promise<IteratorResult<CdrItem>> {
      await batches.return(undefined);
      return { done: true, value: undefined };
    },
  };
}

/** Opens a CDR file for reading; `.gz` files (rotated logs) are decompressed on the way. */
export function openCdrFile(path: string): Readable {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  if (!path.endsWith(".gz")) return file;
  return pipeline(file, createGunzip(), () => {
    // Errors reach the reader through the destroyed gunzip stream.
  });
}

/** The file's chunks, opened only when the first is asked for (and closed when reading stops). */
async function* fileChunks(path: string): AsyncGenerator<Uint8Array | string> {
  yield* openCdrFile(path);
}

/** Reads a CDR file item by item; the file path is the items' source. Each iteration reads the file anew. */
export function readCdrFile(
  path: string,
  format: CdrFormat,
  options: CdrReaderOptions = {},
  stats?: CdrStats,
): AsyncIterable<CdrItem> {
  return {
    [Symbol.asyncIterator]: () => itemsOf(readCdrBatches(fileChunks(path), path, format, options, stats)),
  };
}

/** Reads a CDR file a chunk of items at a time (the fast path for replay). */
export function readCdrFileBatches(
  path: string,
  format: CdrFormat,
  options: CdrReaderOptions = {},
  stats?: CdrStats,
): AsyncIterable<CdrItem[]> {
  return { [Symbol.asyncIterator]: () => readCdrBatches(fileChunks(path), path, format, options, stats) };
}
