import type { Redis } from 'ioredis';
import type { LogStream } from '../workflows/workflow.ts';

const FLUSH_EVERY_MS = 50;
const FLUSH_AT_LINES = 200;
const MAX_TEXT_CHARS = 8192;

/** Batches a task's log lines into its BullMQ log list, keeping the newest `keep` lines. */
export class LogBuffer {
  #lines: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #pending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly keep: number,
  ) {}

  push(text: string, stream: LogStream): void {
    const capped = text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS)}…` : text;
    this.#lines.push(JSON.stringify({ ts: new Date().toISOString(), stream, text: capped }));
    if (this.#lines.length >= FLUSH_AT_LINES) this.#flushNow();
    else this.#timer ??= setTimeout(() => this.#flushNow(), FLUSH_EVERY_MS);
  }

  #flushNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#lines.length === 0) return;
    const lines = this.#lines;
    this.#lines = [];
    this.#pending = this.#pending.then(() =>
      this.redis
        .multi()
        .rpush(this.key, ...lines)
        .ltrim(this.key, -this.keep, -1)
        .exec(),
    );
  }

  /** Writes what is buffered; resolves once every line is in Redis. */
  async flush(): Promise<void> {
    this.#flushNow();
    await this.#pending;
  }
}
