import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type TSchema, Type } from '@sinclair/typebox';
import { type FieldError, type WorkflowLoadError, WorkflowName } from '@taskdock/shared/contract';
import { Ajv, type ErrorObject } from 'ajv';
import {
  checkDefinitionTemplates,
  createDeclarativeWorkflow,
  DeclarativeDefinition,
  type DeclarativeOptions,
  ParamsJsonSchema,
  TaskOptionFields,
  taskDefaultsOf,
  WorkflowDescription,
} from './declarative.ts';
import { toFieldError } from './registry.ts';
import type { Workflow } from './workflow.ts';

/** Declarative files, then code modules (ESM `.mjs`; `.js` as its package.json says). */
const WORKFLOW_FILE_EXTENSIONS = ['.json', '.mjs', '.js'] as const;
/** A workflow file larger than this is refused unread. */
const MAX_WORKFLOW_FILE_BYTES = 1024 * 1024;
/** Files of one folder that are looked at, at most: the first in name order (a bound on each scan). */
const MAX_WORKFLOW_FILES = 1000;

/** One file's outcome: a workflow, or the error that stops it (its name when it was readable). */
export type LoadedFile =
  | { readonly file: string; readonly workflow: Workflow }
  | { readonly file: string; readonly name: string; readonly error: WorkflowLoadError };

export type LoadOptions = Omit<DeclarativeOptions, 'file'>;

/** The workflow files of `folders` with their stamps (mtime, size, inode); a missing folder has none. */
export async function listWorkflowFiles(folders: readonly string[]): Promise<Map<string, string>> {
  const stamps = new Map<string, string>();
  for (const folder of folders) {
    const names = await readdir(folder).catch(() => [] as string[]);
    const files = names
      .filter((n) => !n.startsWith('.') && WORKFLOW_FILE_EXTENSIONS.some((ext) => n.endsWith(ext)))
      .sort()
      .slice(0, MAX_WORKFLOW_FILES);
    for (const name of files) {
      const file = path.join(folder, name);
      const info = await stat(file).catch(() => undefined);
      if (info?.isFile()) stamps.set(file, `${info.mtimeMs}:${info.size}:${info.ino}`);
    }
  }
  return stamps;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The name a broken file is listed under when its own name cannot be read. */
const fallbackName = (file: string) => path.basename(file).replace(/\.[^.]*$/, '');

// Verbose: an error carries its schema, whose description says what a union allows.
const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false, verbose: true });
const validateDeclarative = ajv.compile(DeclarativeDefinition);
/** A code module's exports, `run` aside (a function is no JSON Schema type). */
const CodeExports = Type.Object({
  name: WorkflowName,
  description: Type.Optional(WorkflowDescription),
  paramsSchema: ParamsJsonSchema,
  ...TaskOptionFields,
});
const validateCodeExports = ajv.compile(CodeExports);

/**
 * The problem to report from Ajv's errors: the first, except that a union's branch errors
 * ("must be equal to constant") give way to the union's own, told with its description.
 */
function firstProblem(errors: readonly ErrorObject[] | null | undefined): FieldError {
  const [first] = errors ?? [];
  if (!first) return { path: '', message: 'is invalid' };
  const union = errors?.find((e) => e.keyword === 'anyOf' && e.instancePath === first.instancePath);
  const description = (union?.parentSchema as { description?: string } | undefined)?.description;
  if (union && description) return { path: union.instancePath, message: `must be ${description}` };
  return toFieldError(first);
}

/** `position 11` of a JSON.parse message → its line in `text`. */
function lineAt(text: string, message: string): number | undefined {
  const position = /position (\d+)/.exec(message)?.[1];
  if (position === undefined) return undefined;
  return text.slice(0, Number(position)).split('\n').length;
}

/** The line of `"key":` for the last key of a field path, when the file has exactly one. */
function lineOfField(text: string, field: string): number | undefined {
  const key = field.split('/').pop();
  if (!key || /^\d+$/.test(key)) return undefined;
  const pattern = new RegExp(`"${escapeRegExp(key)}"\\s*:`, 'g');
  const hits = [...text.matchAll(pattern)];
  return hits.length === 1 ? text.slice(0, hits[0]?.index).split('\n').length : undefined;
}

function fieldProblem(file: string, name: string, problem: FieldError, text?: string): LoadedFile {
  const line = text === undefined ? undefined : lineOfField(text, problem.path);
  return {
    file,
    name,
    error: {
      file,
      ...(line === undefined ? {} : { line }),
      ...(problem.path ? { field: problem.path } : {}),
      message: problem.message,
    },
  };
}

async function loadDeclarative(
  file: string,
  text: string,
  options: LoadOptions,
): Promise<LoadedFile> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const line = lineAt(text, message);
    return {
      file,
      name: fallbackName(file),
      error: { file, ...(line === undefined ? {} : { line }), message: `not JSON: ${message}` },
    };
  }
  const name =
    typeof (data as { name?: unknown })?.name === 'string'
      ? (data as { name: string }).name
      : fallbackName(file);
  if (!validateDeclarative(data)) {
    return fieldProblem(file, name, firstProblem(validateDeclarative.errors), text);
  }
  const [problem] = checkDefinitionTemplates(data);
  if (problem) return fieldProblem(file, name, problem, text);
  return { file, workflow: createDeclarativeWorkflow(data, { ...options, file }) };
}

/** `node --check` finds the line of a syntax error, which import() does not report. */
function syntaxErrorLine(file: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--check', file],
      // In the packaged app the worker's executable is Electron's, run as plain Node.
      { timeout: 5000, env: { ELECTRON_RUN_AS_NODE: '1' } },
      (_err, _out, stderr) => {
        const line = new RegExp(`${escapeRegExp(file)}:(\\d+)`).exec(stderr)?.[1];
        resolve(line === undefined ? undefined : Number(line));
      },
    );
  });
}

const requireHere = createRequire(import.meta.url);

async function loadCode(file: string, text: string): Promise<LoadedFile> {
  const url = pathToFileURL(file).href;
  // A new URL per content, so an edited module is evaluated again (ESM caches by URL); a
  // CommonJS `.js` is cached by path, so its entry goes first. Old versions stay in memory.
  delete requireHere.cache[file];
  let loaded: Record<string, unknown>;
  try {
    loaded = await import(`${url}?v=${createHash('sha1').update(text).digest('hex')}`);
  } catch (err) {
    const error = err as Error;
    const line =
      error instanceof SyntaxError
        ? await syntaxErrorLine(file)
        : Number(new RegExp(`${escapeRegExp(url)}[^:]*:(\\d+)`).exec(error.stack ?? '')?.[1]) ||
          undefined;
    return {
      file,
      name: fallbackName(file),
      error: {
        file,
        ...(line === undefined ? {} : { line }),
        message: `${error.name}: ${error.message}`,
      },
    };
  }
  const exports = (loaded.default ?? loaded) as Record<string, unknown>;
  const name = typeof exports.name === 'string' ? exports.name : fallbackName(file);
  const { run, ...fields } = exports;
  if (!validateCodeExports(fields)) {
    return fieldProblem(file, name, firstProblem(validateCodeExports.errors));
  }
  if (typeof run !== 'function') {
    return fieldProblem(file, name, { path: '/run', message: 'must be a function run(ctx)' });
  }
  const definition = fields as typeof CodeExports.static;
  return {
    file,
    workflow: {
      name: definition.name,
      description: definition.description ?? '',
      paramsSchema: definition.paramsSchema as unknown as TSchema,
      ...(definition.concurrency === undefined ? {} : { concurrency: definition.concurrency }),
      taskDefaults: taskDefaultsOf(definition),
      run: run as Workflow['run'],
    },
  };
}

/** Reads one workflow file; never throws: a problem is the file's load error. */
export async function loadWorkflowFile(file: string, options: LoadOptions): Promise<LoadedFile> {
  const broken = (message: string): LoadedFile => ({
    file,
    name: fallbackName(file),
    error: { file, message },
  });
  const info = await stat(file).catch(() => undefined);
  if (!info) return broken('cannot be read: it is gone');
  if (info.size > MAX_WORKFLOW_FILE_BYTES) {
    return broken(`is ${info.size} bytes, more than ${MAX_WORKFLOW_FILE_BYTES}`);
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return broken(
      `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return file.endsWith('.json') ? loadDeclarative(file, text, options) : loadCode(file, text);
}
