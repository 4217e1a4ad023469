import type { Readable } from 'node:stream';

/** Ends a piece of a line that goes on in the next piece, and a text that was cut short. */
export const CUT_MARKER = '…';
const MARKER_BYTES = Buffer.byteLength(CUT_MARKER);
const LF = 0x0a;
const CR = 0x0d;

/** The largest `end` ≤ `max` (and > `start` when it can be) that does not split a UTF-8 character. */
function charBoundary(bytes: Uint8Array, start: number, max: number): number {
  let end = max;
  // A continuation byte (10xxxxxx) belongs to the character that started before it.
  while (end > start && end < bytes.length && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return end > start ? end : max;
}

/** The first `maxBytes` bytes of `bytes` that make whole UTF-8 characters, as text. */
export function utf8Prefix(bytes: Uint8Array, maxBytes: number): string {
  if (bytes.length <= maxBytes) return Buffer.from(bytes).toString('utf8');
  const end = charBoundary(bytes, 0, maxBytes);
  return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8');
}

/** `text` if it fits in `maxBytes` of UTF-8, else its start plus the cut marker, within `maxBytes`. */
export function truncateUtf8(text: string, maxBytes: number): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short texts need no encoding to know they fit.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return text;
  const head = Buffer.from(text.slice(0, maxBytes));
  return utf8Prefix(head, maxBytes - MARKER_BYTES) + CUT_MARKER;
}

/**
 * Cuts a byte stream into lines (LF or CRLF) of at most `maxBytes` UTF-8 bytes, never holding
 * more than one line's worth: a longer line comes out in pieces, each but the last ending with
 * the cut marker. Characters split across chunks are joined before decoding.
 */
export class LineSplitter {
  #pending: Buffer = Buffer.alloc(0);

  constructor(readonly maxBytes: number) {
    if (maxBytes < 16) throw new Error('LineSplitter needs at least 16 bytes per line');
  }

  push(chunk: Uint8Array): string[] {
    const data = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const newline = data.indexOf(LF, start);
      let end = newline === -1 ? data.length : newline;
      if (newline !== -1 && end > start && data[end - 1] === CR) end--;
      while (end - start > this.maxBytes) {
        const cut = charBoundary(data, start, start + this.maxBytes - MARKER_BYTES);
        lines.push(decode(data, start, cut) + CUT_MARKER);
        start = cut;
      }
      if (newline === -1) break;
      lines.push(decode(data, start, end));
      start = newline + 1;
    }
    // Copied, so the chunk (often 64 KiB) is not kept alive by a few bytes of it.
    this.#pending = Buffer.from(data.subarray(start));
    return lines;
  }

  /** The last line, when the stream did not end with a newline. */
  end(): string[] {
    const rest = this.#pending;
    this.#pending = Buffer.alloc(0);
    return rest.length > 0 ? [decode(rest, 0, rest.length)] : [];
  }
}

const decode = (bytes: Uint8Array, start: number, end: number) =>
  Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');

/**
 * Reads `stream` chunk by chunk and awaits `onLine` for every line (see LineSplitter): while
 * `onLine` waits, nothing more is read, so a child writing to the pipe blocks (backpressure).
 */
export async function pumpLines(
  stream: Readable,
  maxBytes: number,
  onLine: (line: string) => Promise<void> | void,
): Promise<void> {
  const splitter = new LineSplitter(maxBytes);
  for await (const chunk of stream) {
    for (const line of splitter.push(chunk as Buffer)) await onLine(line);
  }
  for (const line of splitter.end()) await onLine(line);
}

/** Keeps the last `maxItems` items, at most `maxBytes` of UTF-8 in all; says if it dropped any. */
export class Tail {
  readonly #items: string[] = [];
  #bytes = 0;
  #dropped = false;

  constructor(
    readonly maxItems: number,
    readonly maxBytes: number,
  ) {}

  push(item: string): void {
    const kept = truncateUtf8(item, this.maxBytes);
    if (kept !== item) this.#dropped = true;
    this.#items.push(kept);
    this.#bytes += Buffer.byteLength(kept) + 1;
    while (this.#items.length > this.maxItems || this.#bytes - 1 > this.maxBytes) {
      this.#bytes -= Buffer.byteLength(this.#items.shift() as string) + 1;
      this.#dropped = true;
    }
  }

  /** True when the tail is not all that was pushed. */
  get truncated(): boolean {
    return this.#dropped;
  }

  text(): string {
    return this.#items.join('\n');
  }
}
