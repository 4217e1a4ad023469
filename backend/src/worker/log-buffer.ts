import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import { defineScripts } from '../tasks/scripts.ts';
import { truncateUtf8 } from '../workflows/output-lines.ts';
import type { LogStream } from '../workflows/workflow.ts';

const FLUSH_EVERY_MS = 50;
const FLUSH_AT_LINES = 200;
const FLUSH_AT_CHARS = 256 * 1024;
/** Past this many characters buffered or on their way to Redis, producers are asked to wait. */
const MAX_PENDING_CHARS = 1024 * 1024;
const READY: Promise<void> = Promise.resolve();

export interface LogLimits {
  /** The newest lines a task's log list keeps. */
  readonly keepLines: number;
  /** UTF-8 bytes of one line's text; a longer text is cut, ending with the cut marker. */
  readonly lineBytes: number;
}

/**
 * Batches a task's log lines into its BullMQ log list, keeping the newest `keepLines`. Writes go
 * to Redis one after another, in order; `push` tells a producer when to wait for them.
 */
export class LogBuffer {
  #lines: string[] = [];
  #bufferedChars = 0;
  #writingChars = 0;
  #timer: NodeJS.Timeout | undefined;
  #writes: Promise<void> = READY;
  #failure: { error: unknown } | undefined;

  constructor(
    private readonly redis: RedisConnection,
    private readonly key: string,
    private readonly limits: LogLimits,
  ) {
    defineScripts(redis);
  }

  /**
   * Buffers one line. The promise resolves at once while little is pending, else once the
   * writes so far are done: a producer that awaits it never gets far ahead of Redis. It never
   * rejects; a failed write is reported by `flush`.
   */
  push(text: string, stream: LogStream): Promise<void> {
    if (this.#failure) return READY;
    const line = JSON.stringify({
      ts: new Date().toISOString(),
      stream,
      text: truncateUtf8(text, this.limits.lineBytes),
    });
    this.#lines.push(line);
    this.#bufferedChars += line.length;
    if (this.#lines.length >= FLUSH_AT_LINES || this.#bufferedChars >= FLUSH_AT_CHARS) {
      this.#flushNow();
    } else {
      this.#timer ??= setTimeout(() => this.#flushNow(), FLUSH_EVERY_MS);
    }
    return this.#bufferedChars + this.#writingChars > MAX_PENDING_CHARS ? this.#writes : READY;
  }

  #flushNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#lines.length === 0) return;
    const lines = this.#lines;
    const chars = this.#bufferedChars;
    this.#lines = [];
    this.#bufferedChars = 0;
    this.#writingChars += chars;
    this.#writes = this.#writes.then(async () => {
      try {
        if (!this.#failure) {
          await this.redis.taskdockAppendLogs(this.key, this.limits.keepLines, ...lines);
        }
      } catch (error) {
        this.#failure = { error };
      } finally {
        this.#writingChars -= chars;
      }
    });
  }

  /** Writes what is buffered; resolves once every line is in Redis, rejects if a write failed. */
  async flush(): Promise<void> {
    this.#flushNow();
    await this.#writes;
    if (this.#failure) throw this.#failure.error;
  }
}
