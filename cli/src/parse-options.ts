import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { CliError } from './exit-codes.ts';

/** `--param k=v`, repeatable: collects the pairs in order. */
export function collectParam(value: string, previous: [string, string][] = []): [string, string][] {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got "${value}"`);
  return [...previous, [value.slice(0, eq), value.slice(eq + 1)]];
}

/**
 * A `--param` value: the text as it is where the workflow's schema wants a string
 * (`command=false`), else JSON when it reads as JSON (`ms=500`, `args=["-l"]`, `dry=true`),
 * else the text.
 */
function paramValue(text: string, schema: unknown): unknown {
  const type = (schema as { type?: unknown } | undefined)?.type;
  if (type === 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface ParamSources {
  readonly param?: [string, string][];
  readonly paramsJson?: string;
  readonly paramsFile?: string;
}

/** The workflow's params schema, asked for only when a `--param` needs it. */
export type SchemaLookup = () => Promise<unknown>;

/** Params from a file (`-`: stdin), then `--params-json`, then each `--param` over them. */
export async function buildParams(
  sources: ParamSources,
  readStdin: () => Promise<string>,
  paramsSchema: SchemaLookup,
): Promise<Record<string, unknown> | undefined> {
  let params: Record<string, unknown> | undefined;
  if (sources.paramsFile !== undefined) {
    const file = sources.paramsFile;
    const text = file === '-' ? await readStdin() : await readText(file);
    params = jsonObject(text, file === '-' ? 'stdin' : file);
  }
  if (sources.paramsJson !== undefined) {
    params = { ...params, ...jsonObject(sources.paramsJson, '--params-json') };
  }
  const pairs = sources.param ?? [];
  const properties =
    pairs.length === 0
      ? undefined
      : ((await paramsSchema()) as { properties?: Record<string, unknown> } | undefined)
          ?.properties;
  for (const [key, value] of pairs) {
    params = { ...params, [key]: paramValue(value, properties?.[key]) };
  }
  return params;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

function jsonObject(text: string, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${where} is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(`${where} must be a JSON object of params`);
  }
  return value as Record<string, unknown>;
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `1500`, `1500ms`, `2s`, `5m`, `1h` → milliseconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('expected a duration such as 500, 500ms, 2s, 5m, 1h');
  return Math.round(Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? 1));
}

export function parseInteger(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}
