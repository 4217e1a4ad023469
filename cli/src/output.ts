import type { TaskStatus } from '@taskdock/shared/contract';
import picocolors from 'picocolors';

export const OUTPUT_MODES = ['text', 'json', 'jsonl'] as const;
export type OutputMode = (typeof OUTPUT_MODES)[number];

/** Where output goes: stdout for results, stderr for notes and the progress bar. */
export interface Stream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export type Colors = ReturnType<typeof picocolors.createColors>;

export interface Output {
  readonly mode: OutputMode;
  readonly colors: Colors;
  /** A command's one result: JSON as it came, or its text form. */
  value(data: unknown, text: () => string): void;
  /** A list: `json` prints `whole`, `jsonl` one line per item, `text` the text form. */
  list(items: readonly unknown[], whole: unknown, text: () => string): void;
  /** A record of a stream (events, log lines): printed at once, except in `json`. */
  record(data: unknown, text: () => string): void;
  /** A hint for people (stderr, text mode only): never in what scripts parse. */
  note(text: string): void;
  /** Replaces the progress bar line (stderr on a TTY, text mode only); `undefined` clears it. */
  bar(line: string | undefined): void;
}

export function createOutput(options: {
  mode: OutputMode;
  stdout: Stream;
  stderr: Stream;
  /** Whether to colour stdout (a TTY without NO_COLOR). */
  color: boolean;
}): Output {
  const { mode, stdout, stderr } = options;
  const colors = picocolors.createColors(options.color);
  const line = (text: string) => {
    if (text !== '') stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  const showBar = mode === 'text' && stderr.isTTY === true;
  let barShown = false;
  const clearBar = () => {
    if (barShown) stderr.write('\r\x1b[2K');
    barShown = false;
  };
  return {
    mode,
    colors,
    value(data, text) {
      clearBar();
      if (mode === 'text') line(text());
      else line(JSON.stringify(data, null, mode === 'json' ? 2 : undefined));
    },
    list(items, whole, text) {
      clearBar();
      if (mode === 'text') line(text());
      else if (mode === 'json') line(JSON.stringify(whole, null, 2));
      else for (const item of items) line(JSON.stringify(item));
    },
    record(data, text) {
      if (mode === 'json') return;
      clearBar();
      line(mode === 'jsonl' ? JSON.stringify(data) : text());
    },
    note(text) {
      if (mode !== 'text') return;
      clearBar();
      stderr.write(`${text}\n`);
    },
    bar(text) {
      if (!showBar) return;
      if (text === undefined) return clearBar();
      stderr.write(`\r\x1b[2K${text}`);
      barShown = true;
    },
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes are what it strips.
const ANSI = /\x1b\[[0-9;]*m/g;
const width = (text: string) => text.replace(ANSI, '').length;

/** Rows as aligned columns (colour codes do not count towards the width). */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => width(row[i] ?? ''))));
  return all
    .map((row) =>
      row
        .map((cell, i) =>
          i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - width(cell)),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `key  value` lines, keys aligned. */
export function fields(entries: readonly (readonly [string, string | undefined])[]): string {
  const shown = entries.filter((e): e is readonly [string, string] => e[1] !== undefined);
  const keyWidth = Math.max(0, ...shown.map(([key]) => key.length));
  return shown.map(([key, value]) => `${key.padEnd(keyWidth)}  ${value}`).join('\n');
}

export function colorStatus(colors: Colors, status: TaskStatus): string {
  switch (status) {
    case 'completed':
      return colors.green(status);
    case 'failed':
      return colors.red(status);
    case 'cancelled':
      return colors.yellow(status);
    case 'running':
      return colors.cyan(status);
    default:
      return colors.dim(status);
  }
}

/** `[##########----------]  50%  step` for the --wait bar. */
export function progressBar(percent: number, step: string | undefined, size = 24): string {
  const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * size);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(size - filled)}]`;
  return `${bar} ${String(Math.round(percent)).padStart(3)}%${step ? `  ${step}` : ''}`;
}
