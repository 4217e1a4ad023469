import fs from 'node:fs';
import path from 'node:path';
import {
  LOG_LEVEL_ORDER,
  SERVICE_LOG_MAX_LIMIT,
  type ServiceLogLevel,
  type ServiceLogLine,
  type ServiceLogQuery,
  type ServiceLogSource,
  serviceLogMatches,
} from '@taskdock/shared/contract';

export type LogStream = ServiceLogLine['stream'];

export interface LogStoreOptions {
  /** `<dataDir>/logs`; undefined keeps lines in memory only. */
  readonly dir: string | undefined;
  /** A file is rotated when it would grow past this. */
  readonly maxFileBytes?: number;
  /** Rotated files kept per source (`worker.1.log` … `worker.N.log`). */
  readonly keepFiles?: number;
  /** Lines kept in memory per source, so a chatty service never evicts another's last words. */
  readonly bufferLines?: number;
}

const MAX_LINE_CHARS = 16 * 1024;
const PINO_LEVELS: Record<number, ServiceLogLevel> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
/** redis-server: `pid:role dd Mon yyyy hh:mm:ss.mmm <mark> message`; the mark is the level. */
const REDIS_LINE = /^\d+:[XCSM] \d{1,2} \w{3} \d{4} [\d:.]+ ([.\-*#]) (.*)$/;
const REDIS_LEVELS: Record<string, ServiceLogLevel> = {
  '.': 'debug',
  '-': 'debug',
  '*': 'info',
  '#': 'warn',
};
// redis marks its ordinary start and stop notices with `#` (warning) too; they are not warnings.
const REDIS_NOTICES = [
  'oO0OoO0OoO0Oo Redis is starting',
  'Redis version=',
  'Configuration loaded',
  'Server initialized',
  'Ready to accept connections',
  'User requested shutdown',
  'Redis is now ready to exit',
];
const PINO_NOISE = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'service', 'v']);

interface Parsed {
  level: ServiceLogLevel;
  text: string;
  ts?: string;
  fields?: Record<string, unknown>;
}

/** Level and text of one output line: pino JSON, a redis-server log line, or plain text. */
export function parseLine(raw: string, stream: LogStream): Parsed {
  const line = raw.length > MAX_LINE_CHARS ? `${raw.slice(0, MAX_LINE_CHARS)}…` : raw;
  if (line.startsWith('{')) {
    try {
      const json = JSON.parse(line) as Record<string, unknown>;
      const level = typeof json.level === 'number' ? PINO_LEVELS[json.level] : undefined;
      if (level) {
        const fields: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(json)) {
          if (!PINO_NOISE.has(key)) fields[key] = value;
        }
        let text = typeof json.msg === 'string' ? json.msg : '';
        const err = json.err as { message?: unknown } | string | undefined;
        const errMessage = typeof err === 'string' ? err : err?.message;
        if (typeof errMessage === 'string' && !text.includes(errMessage)) {
          text = text ? `${text}: ${errMessage}` : errMessage;
        }
        const parsed: Parsed = { level, text };
        if (typeof json.time === 'number') parsed.ts = new Date(json.time).toISOString();
        if (Object.keys(fields).length > 0) parsed.fields = fields;
        return parsed;
      }
    } catch {
      // Not JSON after all: a plain line.
    }
  }
  const redis = REDIS_LINE.exec(line);
  if (redis?.[1] && redis[2] !== undefined) {
    const text = redis[2];
    const notice = REDIS_NOTICES.some((start) => text.startsWith(start));
    return { level: notice ? 'info' : (REDIS_LEVELS[redis[1]] ?? 'info'), text };
  }
  return { level: stream === 'stderr' ? 'error' : 'info', text: line };
}

/** One size-capped file per source, rotated as `name.1.log` … `name.<keep>.log`. */
class RotatingFile {
  private fd: number | undefined;
  private size = 0;

  constructor(
    private readonly file: string,
    private readonly maxBytes: number,
    private readonly keep: number,
  ) {}

  write(text: string): void {
    const bytes = Buffer.byteLength(text);
    if (this.fd === undefined) this.open();
    if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
    if (this.fd === undefined) return;
    // Synchronous on purpose: a line is on disk before the next one is read, so a crash of the
    // supervisor itself cannot lose what a service said last.
    fs.writeSync(this.fd, text);
    this.size += bytes;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): void {
    this.fd = fs.openSync(this.file, 'a', 0o600);
    this.size = fs.fstatSync(this.fd).size;
  }

  private rotate(): void {
    this.close();
    const base = this.file.replace(/\.log$/, '');
    fs.rmSync(`${base}.${this.keep}.log`, { force: true });
    for (let i = this.keep - 1; i >= 1; i--) {
      if (fs.existsSync(`${base}.${i}.log`))
        fs.renameSync(`${base}.${i}.log`, `${base}.${i + 1}.log`);
    }
    if (this.keep > 0) fs.renameSync(this.file, `${base}.1.log`);
    else fs.rmSync(this.file, { force: true });
    this.open();
  }
}

const formatFileLine = (line: ServiceLogLine) =>
  `${line.ts} ${line.level.toUpperCase().padEnd(5)} ${line.stream.padEnd(6)} ${line.text}${
    line.fields ? ` ${JSON.stringify(line.fields)}` : ''
  }\n`;

/**
 * Every line of every service: parsed (level from pino JSON or redis' marks), numbered, kept in
 * a bounded per-source buffer and appended to `<dir>/<source>.log` (size-capped, rotated).
 */
export class LogStore {
  private readonly buffers = new Map<ServiceLogSource, ServiceLogLine[]>();
  /** `worker.log`, or `worker-2.log` for instance 2 of several. */
  private readonly files = new Map<string, RotatingFile>();
  private readonly partial = new Map<string, string>();
  private readonly listeners = new Set<(line: ServiceLogLine) => void>();
  private readonly bufferLines: number;
  private readonly maxFileBytes: number;
  private readonly keepFiles: number;
  /** Starts at the clock (µs-ish), so `seq` keeps growing across supervisor runs. */
  private seq = Date.now() * 1000;
  private closed = false;

  constructor(private readonly options: LogStoreOptions) {
    this.bufferLines = options.bufferLines ?? 5000;
    this.maxFileBytes = options.maxFileBytes ?? 5 * 1024 * 1024;
    this.keepFiles = options.keepFiles ?? 3;
    if (this.bufferLines < 1) throw new Error('LogStore bufferLines must be at least 1');
    if (this.maxFileBytes < 1024) throw new Error('LogStore maxFileBytes must be at least 1024');
    if (options.dir) fs.mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  }

  get dir(): string | undefined {
    return this.options.dir;
  }

  /**
   * A chunk of a service's stdout/stderr; a trailing partial line waits for the rest. Returns
   * the complete lines it added. `instance`: which of several processes of the service.
   */
  capture(
    source: ServiceLogSource,
    stream: LogStream,
    chunk: Buffer | string,
    instance?: number,
  ): ServiceLogLine[] {
    const key = `${source}:${instance ?? ''}:${stream}`;
    const text = (this.partial.get(key) ?? '') + chunk.toString();
    const lines = text.split(/\r?\n/);
    const rest = lines.pop() ?? '';
    if (rest.length > MAX_LINE_CHARS) {
      lines.push(rest);
      this.partial.delete(key);
    } else {
      this.partial.set(key, rest);
    }
    const built = lines
      .filter((l) => l.trim() !== '')
      .map((l) => this.build(source, stream, l, instance));
    this.add(source, built);
    return built;
  }

  /** The stream ended: its unterminated last line counts too. */
  flush(source: ServiceLogSource, stream: LogStream, instance?: number): ServiceLogLine[] {
    const key = `${source}:${instance ?? ''}:${stream}`;
    const rest = this.partial.get(key);
    this.partial.delete(key);
    if (!rest?.trim()) return [];
    const line = this.build(source, stream, rest, instance);
    this.add(source, [line]);
    return [line];
  }

  /** A line written by the supervisor about a service (stream `system`). */
  system(
    source: ServiceLogSource,
    level: ServiceLogLevel,
    text: string,
    fields?: Record<string, unknown>,
    instance?: number,
  ): ServiceLogLine {
    const line: ServiceLogLine = {
      seq: ++this.seq,
      ts: new Date().toISOString(),
      service: source,
      ...(instance === undefined ? {} : { instance }),
      stream: 'system',
      level,
      text,
      ...(fields ? { fields } : {}),
    };
    this.add(source, [line]);
    return line;
  }

  /** The newest `limit` matching lines, oldest first. */
  query(query: ServiceLogQuery): ServiceLogLine[] {
    const limit = Math.min(query.limit ?? 200, SERVICE_LOG_MAX_LIMIT);
    const sources = query.service ? [query.service] : [...this.buffers.keys()];
    const matches: ServiceLogLine[] = [];
    for (const source of sources) {
      const buffer = this.buffers.get(source) ?? [];
      // Newest first within a source, so at most `limit` per source are collected.
      let taken = 0;
      for (let i = buffer.length - 1; i >= 0 && taken < limit; i--) {
        const line = buffer[i] as ServiceLogLine;
        if (query.after !== undefined && line.seq <= query.after) break;
        if (serviceLogMatches(line, query)) {
          matches.push(line);
          taken++;
        }
      }
    }
    matches.sort((a, b) => a.seq - b.seq);
    return matches.slice(-limit);
  }

  /** The last `count` lines of a source (of one instance, if given) as text, for `lastExit`. */
  tail(
    source: ServiceLogSource,
    count = 20,
    minLevel?: ServiceLogLevel,
    instance?: number,
  ): string[] {
    const buffer = this.buffers.get(source) ?? [];
    const lines = buffer.filter(
      (l) =>
        (minLevel === undefined || LOG_LEVEL_ORDER[l.level] >= LOG_LEVEL_ORDER[minLevel]) &&
        (instance === undefined || l.instance === instance),
    );
    return lines
      .slice(-count)
      .map((l) => (l.stream === 'system' ? `[supervisor] ${l.text}` : l.text));
  }

  subscribe(listener: (line: ServiceLogLine) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    for (const file of this.files.values()) file.close();
    this.files.clear();
    this.listeners.clear();
  }

  private build(
    source: ServiceLogSource,
    stream: LogStream,
    raw: string,
    instance: number | undefined,
  ): ServiceLogLine {
    const parsed = parseLine(raw, stream);
    return {
      seq: ++this.seq,
      ts: parsed.ts ?? new Date().toISOString(),
      service: source,
      ...(instance === undefined ? {} : { instance }),
      stream,
      level: parsed.level,
      text: parsed.text,
      ...(parsed.fields ? { fields: parsed.fields } : {}),
    };
  }

  private add(source: ServiceLogSource, lines: ServiceLogLine[]): void {
    if (lines.length === 0) return;
    let buffer = this.buffers.get(source);
    if (!buffer) {
      buffer = [];
      this.buffers.set(source, buffer);
    }
    buffer.push(...lines);
    // Trim in batches so the buffer is not shifted on every line.
    if (buffer.length > this.bufferLines * 1.25) buffer.splice(0, buffer.length - this.bufferLines);
    if (this.options.dir && !this.closed) {
      try {
        // One call's lines: one source and instance, so one file.
        this.file(lines[0] as ServiceLogLine).write(lines.map(formatFileLine).join(''));
      } catch {
        // A full disk must not take the supervisor down; the lines stay in memory.
      }
    }
    for (const line of lines) for (const listener of this.listeners) listener(line);
  }

  private file(line: ServiceLogLine): RotatingFile {
    const name = line.instance === undefined ? line.service : `${line.service}-${line.instance}`;
    let file = this.files.get(name);
    if (!file) {
      file = new RotatingFile(
        path.join(this.options.dir as string, `${name}.log`),
        this.maxFileBytes,
        this.keepFiles,
      );
      this.files.set(name, file);
    }
    return file;
  }
}
