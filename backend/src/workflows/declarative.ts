import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { type FieldError, TASK_LIMITS, WorkflowName } from '@taskdock/shared/contract';
import { runCommand } from './command-run.ts';
import { Tail } from './output-lines.ts';
import { SHELL_LIMITS } from './shell-params.ts';
import type { ProcessGroupTracker } from './task-process.ts';
import { checkTemplate, expandTemplate } from './templates.ts';
import { type TaskDefaults, TaskFailure, type Workflow } from './workflow.ts';

/** Tasks of one workflow that may run at once across all workers, at most. */
const MAX_CONCURRENCY = 100_000;
const DESCRIPTION_CHARS = 2000;

/** The task options a workflow file may set (declarative and code alike). */
export const TaskOptionFields = {
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: TASK_LIMITS.maxTimeoutMs })),
  maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: TASK_LIMITS.maxAttempts })),
  backoff: Type.Optional(
    Type.Object(
      {
        type: Type.Optional(
          Type.Union([Type.Literal('fixed'), Type.Literal('exponential')], {
            description: '"fixed" or "exponential"',
          }),
        ),
        delayMs: Type.Integer({ minimum: 0, maximum: TASK_LIMITS.maxBackoffMs }),
      },
      { additionalProperties: false },
    ),
  ),
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CONCURRENCY })),
};
const TaskOptions = Type.Object(TaskOptionFields);

export const WorkflowDescription = Type.String({ maxLength: DESCRIPTION_CHARS });

/** A params schema: JSON Schema of an object (its properties are what templates can name). */
export const ParamsJsonSchema = Type.Object(
  {
    type: Type.Literal('object'),
    properties: Type.Optional(Type.Record(Type.String(), Type.Object({}))),
  },
  { additionalProperties: true },
);

const Template = (maxLength: number) => Type.String({ maxLength });

/** What a `*.json` workflow file holds (docs/workflows.md describes each field). */
export const DeclarativeDefinition = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    name: WorkflowName,
    description: Type.Optional(WorkflowDescription),
    params: Type.Optional(ParamsJsonSchema),
    command: Type.String({ minLength: 1, maxLength: SHELL_LIMITS.commandChars }),
    args: Type.Optional(
      Type.Array(Template(SHELL_LIMITS.argChars), { maxItems: SHELL_LIMITS.args }),
    ),
    cwd: Type.Optional(Template(SHELL_LIMITS.cwdChars)),
    env: Type.Optional(
      Type.Record(
        Type.String({ pattern: '^[^=\\u0000]+$' }),
        Template(SHELL_LIMITS.envValueChars),
        { maxProperties: SHELL_LIMITS.envVars, additionalProperties: false },
      ),
    ),
    progress: Type.Optional(Type.Boolean()),
    result: Type.Optional(
      Type.Union(
        [
          Type.Literal('stdout'),
          Type.Literal('json'),
          Type.Object({ file: Template(SHELL_LIMITS.cwdChars) }, { additionalProperties: false }),
        ],
        { description: '"stdout", "json" or { "file": "<path>" }' },
      ),
    ),
    ...TaskOptionFields,
  },
  { additionalProperties: false },
);
export type DeclarativeDefinition = Static<typeof DeclarativeDefinition>;

/** Problems the schema cannot see: placeholders that name no param. */
export function checkDefinitionTemplates(def: DeclarativeDefinition): FieldError[] {
  const known = new Set(Object.keys(def.params?.properties ?? {}));
  const templates: [string, string][] = [
    ...(def.args ?? []).map((arg, i): [string, string] => [`/args/${i}`, arg]),
    ...Object.entries(def.env ?? {}).map(([k, v]): [string, string] => [`/env/${k}`, v]),
  ];
  if (def.cwd !== undefined) templates.push(['/cwd', def.cwd]);
  if (typeof def.result === 'object') templates.push(['/result/file', def.result.file]);
  return templates.flatMap(([at, template]) => checkTemplate(template, at, known));
}

/** The defaults a create request falls back to, from a file's task options. */
export function taskDefaultsOf(def: Static<typeof TaskOptions>): TaskDefaults {
  return {
    ...(def.timeoutMs === undefined ? {} : { timeoutMs: def.timeoutMs }),
    ...(def.maxAttempts === undefined ? {} : { maxAttempts: def.maxAttempts }),
    ...(def.backoff === undefined
      ? {}
      : { backoff: { type: def.backoff.type ?? 'exponential', delayMs: def.backoff.delayMs } }),
  };
}

export interface DeclarativeOptions {
  /** The file it came from: relative paths in it are relative to its folder. */
  readonly file: string;
  /** The variables every command starts with (PATH, HOME, …); `env` is laid over them. */
  readonly baseEnv: Readonly<Record<string, string>>;
  readonly processGroups: ProcessGroupTracker | undefined;
}

/** Lines of stdout kept for `result: "stdout"` (and at most a quarter of the result cap). */
const STDOUT_RESULT_LINES = 100_000;

/** The NUL a param holds, which the OS would cut an argument at: refused at create. */
function checkNoNul(params: Record<string, unknown>): FieldError[] {
  return Object.entries(params).flatMap(([name, value]) =>
    typeof value === 'string' && value.includes('\0')
      ? [{ path: `/${name}`, message: 'must not contain a NUL character' }]
      : [],
  );
}

async function readResultFile(file: string, maxBytes: number): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new TaskFailure(
      `Result file ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'RESULT_FILE',
    );
  }
  if (bytes.length > maxBytes) {
    throw new TaskFailure(
      `Result file ${file} has ${bytes.length} bytes, more than TASKDOCK_MAX_RESULT_BYTES (${maxBytes})`,
      'RESULT_FILE',
    );
  }
  const text = bytes.toString('utf8');
  if (path.extname(file).toLowerCase() !== '.json') return text;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TaskFailure(
      `Result file ${file} is not JSON: ${(err as Error).message}`,
      'RESULT_FILE',
    );
  }
}

/** The JSON value a line holds, or undefined (cheap test first: most lines are not JSON). */
function jsonOf(line: string): { value: unknown } | undefined {
  const first = line.trimStart()[0];
  if (first === undefined || !'{["-0123456789tfn'.includes(first)) return undefined;
  try {
    return { value: JSON.parse(line) };
  } catch {
    return undefined;
  }
}

/** A workflow that runs `def.command` with its templates filled in from the task's params. */
export function createDeclarativeWorkflow(
  def: DeclarativeDefinition,
  { file, baseEnv, processGroups }: DeclarativeOptions,
): Workflow {
  const folder = path.dirname(file);
  // `./convert.sh` is next to the file; a bare name is looked up in PATH.
  const command = def.command.includes('/') ? path.resolve(folder, def.command) : def.command;
  const resultMode = def.result ?? 'stdout';
  return {
    name: def.name,
    description: def.description ?? '',
    paramsSchema: (def.params ?? { type: 'object' }) as unknown as TSchema,
    checkParams: checkNoNul,
    ...(def.concurrency === undefined ? {} : { concurrency: def.concurrency }),
    taskDefaults: taskDefaultsOf(def),
    async run(ctx) {
      const params = ctx.params as Record<string, unknown>;
      const fill = (template: string) => expandTemplate(template, params);
      const cwd = path.resolve(folder, def.cwd === undefined ? '.' : fill(def.cwd));
      const stdout = new Tail(STDOUT_RESULT_LINES, Math.floor(ctx.limits.resultBytes / 4));
      let lastJson: { value: unknown } | undefined;
      await runCommand(
        ctx,
        {
          command,
          args: (def.args ?? []).map(fill),
          cwd,
          env: {
            ...baseEnv,
            ...Object.fromEntries(Object.entries(def.env ?? {}).map(([k, v]) => [k, fill(v)])),
          },
        },
        {
          progressLines: def.progress ?? true,
          onStdout: (line) => {
            if (resultMode === 'json') lastJson = jsonOf(line) ?? lastJson;
            else if (resultMode === 'stdout') stdout.push(line);
          },
          processGroups,
        },
      );
      if (resultMode === 'stdout') {
        if (stdout.truncated)
          await ctx.log('stdout is longer than the result keeps: its end is the result', 'system');
        return stdout.text();
      }
      if (resultMode === 'json') {
        if (!lastJson) throw new TaskFailure('No line of stdout was JSON', 'NO_JSON_RESULT');
        return lastJson.value;
      }
      return readResultFile(path.resolve(cwd, fill(resultMode.file)), ctx.limits.resultBytes);
    },
  };
}
