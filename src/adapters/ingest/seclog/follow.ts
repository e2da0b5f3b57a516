/**
 * Lines from a log file as it grows (like `tail -F`), from a file read once, or from a stream such as
 * stdin, as an async iterable of {line, lineNo, source}.
 *
 * Following survives both ways logrotate rotates:
 * - rename + create: the path names a new inode. What the writer added to the old file before the
 *   switch is read first, then the new file from its start (line numbers restart at 1).
 * - copytruncate: the same inode shrinks below our position, so reading restarts at 0. A writer that
 *   refills the file past our old position between two polls hides the truncation; polling often keeps
 *   that window small, and rename + create has no such gap.
 *
 * Reading is pulled by the consumer, so memory stays bounded: one read buffer plus at most one line
 * (longer lines are cut at `maxLineBytes` and flagged `truncated`). Polling instead of fs.watch because
 * watch events are lost across rename on some file systems and do not exist on others.
 */
import { createReadStream } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";

export type LogLine = {
  readonly line: string;
  /** 1-based line number within the current file (restarts after rotation). */
  readonly lineNo: number;
  readonly source: string;
  /** Present when the line was longer than maxLineBytes and was cut there. */
  readonly truncated?: true;
};

export type LineReader = AsyncIterable<LogLine> & {
  /** Stops reading and releases the file; the iteration then ends. Safe to call more than once. */
  close(): Promise<void>;
};

export type FollowOptions = {
  /** Where to begin in the file that exists at start: "end" (default, new lines only) or "start". */
  readonly from?: "start" | "end";
  /** How often to look for new data and rotation, in ms (default 250). */
  readonly pollMs?: number;
  readonly maxLineBytes?: number;
  /** Name put in each record (default: the path). */
  readonly source?: string;
};

export type ReadOptions = { readonly maxLineBytes?: number; readonly source?: string };

const DEFAULT_MAX_LINE = 64 * 1024;
const CHUNK = 64 * 1024;

type Piece = { line: string; truncated: boolean };

/** Splits bytes at LF into lines, holding at most `max` bytes of an unfinished line. */
class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private cut = false;

  constructor(private readonly max: number) {}

  push(chunk: Buffer, out: Piece[]): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) {
        this.hold(chunk.subarray(start));
        return;
      }
      this.hold(chunk.subarray(start, nl));
      out.push(this.take());
      start = nl + 1;
    }
  }

  /** The unfinished line, if any, as a line of its own (end of input or of a rotated file). */
  flush(): Piece | undefined {
    return this.size > 0 || this.cut ? this.take() : undefined;
  }

  reset(): void {
    this.parts = [];
    this.size = 0;
    this.cut = false;
  }

  private hold(b: Buffer): void {
    if (b.length === 0) return;
    const room = this.max - this.size;
    if (room <= 0) {
      this.cut = true;
      return;
    }
    const keep = b.length > room ? b.subarray(0, room) : b;
    if (keep.length < b.length) this.cut = true;
    // Copied: the read buffer is reused for the next chunk.
    this.parts.push(Buffer.from(keep));
    this.size += keep.length;
  }

  private take(): Piece {
    const buf = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    let line = buf.toString("utf8");
    if (line.endsWith("\r")) line = line.slice(0, -1);
    const piece = { line, truncated: this.cut };
    this.reset();
    return piece;
  }
}

const record = (p: Piece, lineNo: number, source: string): LogLine =>
  p.truncated ? { line: p.line, lineNo, source, truncated: true } : { line: p.line, lineNo, source };

/** A sleep that close() can cut short. */
class Waker {
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    this.wake = undefined;
  }
}

function reader(gen: AsyncGenerator<LogLine, void, undefined>, onClose: () => void): LineReader {
  let closing: Promise<void> | undefined;
  return {
    [Symbol.asyncIterator]: () => gen,
    close() {
      closing ??= (async () => {
        onClose();
        await gen.return(undefined);
      })();
      return closing;
    },
  };
}

const isMissing = (e: unknown): boolean =>
  typeof e === "object" && e !== null && "code" in e && (e as { code: unknown }).code === "ENOENT";

/** Follows `path` across rotation until close(). A path that does not exist yet is waited for. */
export function followFile(path: string, options: FollowOptions = {}): LineReader {
  const pollMs = options.pollMs ?? 250;
  const source = options.source ?? path;
  const splitter = new LineSplitter(options.maxLineBytes ?? DEFAULT_MAX_LINE);
  const waker = new Waker();
  let closed = false;

  async function* run(): AsyncGenerator<LogLine, void, undefined> {
    const buf = Buffer.allocUnsafe(CHUNK);
    let fh: FileHandle | undefined;
    let ino = 0;
    let dev = 0;
    let pos = 0;
    let lineNo = 0;
    // Only the file found at start is skipped to its end; one that appears later is read whole.
    let skipExisting = options.from !== "start";
    const out: Piece[] = [];
    try {
      while (!closed) {
        if (!fh) {
          try {
            fh = await open(path, "r");
          } catch (e) {
            if (!isMissing(e)) throw e;
            skipExisting = false;
            await waker.sleep(pollMs);
            continue;
          }
          const st = await fh.stat();
          ino = st.ino;
          dev = st.dev;
          pos = skipExisting ? st.size : 0;
          skipExisting = false;
          lineNo = 0;
          splitter.reset();
        }
        const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
        if (bytesRead > 0) {
          pos += bytesRead;
          splitter.push(buf.subarray(0, bytesRead), out);
          for (const p of out) {
            if (closed) return;
            yield record(p, ++lineNo, source);
          }
          out.length = 0;
          continue;
        }
        let st: Awaited<ReturnType<typeof stat>> | undefined;
        try {
          st = await stat(path);
        } catch (e) {
          if (!isMissing(e)) throw e;
        }
        if (st && (st.ino !== ino || st.dev !== dev)) {
          // Renamed away and recreated: the old file is finished.
          const last = splitter.flush();
          await fh.close();
          fh = undefined;
          if (last && !closed) yield record(last, ++lineNo, source);
          continue;
        }
        if (st && st.size < pos) {
          // Truncated in place: the unfinished line belonged to content that is gone.
          splitter.reset();
          pos = 0;
          lineNo = 0;
          continue;
        }
        await waker.sleep(pollMs);
      }
    } finally {
      await fh?.close();
    }
  }

  return reader(run(), () => {
    closed = true;
    waker.cancel();
  });
}

/** Lines of any byte stream (stdin, a socket, a file stream), ending with the stream. */
export function readStreamLines(
  stream: AsyncIterable<Buffer | string> & { destroy?: () => void },
  options: ReadOptions = {},
): LineReader {
  const source = options.source ?? "stdin";
  const splitter = new LineSplitter(options.maxLineBytes ?? DEFAULT_MAX_LINE);
  let closed = false;

  async function* run(): AsyncGenerator<LogLine, void, undefined> {
    let lineNo = 0;
    const out: Piece[] = [];
    try {
      for await (const chunk of stream) {
        splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk, out);
        for (const p of out) {
          if (closed) return;
          yield record(p, ++lineNo, source);
        }
        out.length = 0;
      }
      const last = splitter.flush();
      if (last && !closed) yield record(last, ++lineNo, source);
    } catch (e) {
      // close() destroys the stream under a pending read; that ends the lines, it is not a failure.
      if (!closed) throw e;
    } finally {
      stream.destroy?.();
    }
  }

  return reader(run(), () => {
    closed = true;
    stream.destroy?.();
  });
}

/** Every line of a file, once, for one-off analysis. */
export function readFileLines(path: string, options: ReadOptions = {}): LineReader {
  return readStreamLines(createReadStream(path, { highWaterMark: CHUNK }), {
    ...options,
    source: options.source ?? path,
  });
}
