import { type Static, Type } from '@sinclair/typebox';

// Task ids are `<workflow>:<job id>`; the engine reads the job at the Redis key
// `taskdock:<workflow>:<job id>`. Every other key lives beside the job hashes under the same
// prefix, so the rules here decide which ids can only ever name a job.

/**
 * The first segment of every key of Taskdock's own (`taskdock:<namespace>:…`: tasks/keys.ts,
 * plugins/session.ts). A queue of one of these names would put its jobs among those keys, so
 * none is ever a workflow or queue name.
 */
export const TASKDOCK_KEY_NAMESPACES = [
  'index',
  'schedules',
  'workers',
  'worker',
  'cancel',
  'events',
  'relay',
  'queues',
  'owners',
  'sources',
  'stats',
  'idempotency',
  'owner-slots',
  'process-groups',
  'tmp',
  'session',
  'sign-in',
  'remote',
] as const;

/**
 * What BullMQ 5 keeps beside a queue's job hashes (`taskdock:<queue>:<suffix>`, QueueKeys and its
 * Lua scripts): never a job id. Longer keys (`<job id>:logs`, `:lock`, `repeat:<scheduler>`,
 * `de:<id>`, `metrics:completed`, …) all hold a ':', which a job id holds only in the shape
 * `repeat:<scheduler>:<ms>` of the jobs that job schedulers make.
 */
export const BULLMQ_QUEUE_KEYS = [
  'active',
  'wait',
  'waiting-children',
  'paused',
  'id',
  'delayed',
  'prioritized',
  'priority',
  'stalled-check',
  'stalled',
  'completed',
  'failed',
  'repeat',
  'limiter',
  'meta',
  'events',
  'pc',
  'marker',
  'de',
  'dn',
  'metrics',
] as const;

export const WORKFLOW_NAME_MAX_LENGTH = 100;
/**
 * A schedule's tasks have ids `<workflow>:repeat:<schedule>:<ms>`: with these bounds the longest
 * is 100 + 1 + 7 + 100 + 1 + 16 = 225 characters, under TASK_ID_MAX_LENGTH.
 */
export const SCHEDULE_NAME_MAX_LENGTH = 100;
/** Digits of the run time (ms since 1970) in a schedule's job ids: 13 until the year 2286. */
const MAX_MS_DIGITS = 16;
/** Longest task id the API accepts; every id Taskdock makes is shorter (UUIDs: 137 at most). */
export const TASK_ID_MAX_LENGTH = 300;

const NAME_CHARS = '[A-Za-z0-9_.-]';
/** Characters of a job id (our UUIDs, BullMQ's numbers and custom ids other producers use). */
const JOB_ID_CHARS = '[A-Za-z0-9_.@+=~-]';
const oneOf = (words: readonly string[]) => `(?:${words.join('|')})`;

/** A JSON-schema pattern and what it asks for in plain words (validation messages use it). */
interface DescribedPattern {
  readonly pattern: string;
  readonly message: string;
}

export const WORKFLOW_NAME_PATTERN: DescribedPattern = {
  pattern: `^(?!${oneOf(TASKDOCK_KEY_NAMESPACES)}$)${NAME_CHARS}+$`,
  message: `must be letters, digits, "_", "." or "-", and not one of Taskdock's reserved names (${TASKDOCK_KEY_NAMESPACES.join(', ')})`,
};

export const SCHEDULE_NAME_PATTERN: DescribedPattern = {
  pattern: `^${NAME_CHARS}+$`,
  message: 'must be letters, digits, "_", "." or "-"',
};

export const TASK_ID_PATTERN: DescribedPattern = {
  pattern:
    `^(?!${oneOf(TASKDOCK_KEY_NAMESPACES)}:)${NAME_CHARS}{1,${WORKFLOW_NAME_MAX_LENGTH}}:` +
    `(?!${oneOf(BULLMQ_QUEUE_KEYS)}$)` +
    `(?:${JOB_ID_CHARS}+|repeat:${JOB_ID_CHARS}+:[0-9]{1,${MAX_MS_DIGITS}})$`,
  message:
    `must be a task id "<workflow>:<job id>", at most ${TASK_ID_MAX_LENGTH} characters (job ids: ` +
    'letters, digits and _.@+=~-, or "repeat:<schedule>:<time>"; never a name Taskdock or BullMQ ' +
    'uses for its own keys)',
};

/**
 * Text that is well-formed UTF-16 (no lone surrogate half). Redis stores UTF-8, where every lone
 * half becomes U+FFFD: two different keys or owners would become one.
 */
export const WELL_FORMED_TEXT_PATTERN: DescribedPattern = {
  // With the `u` flag (Ajv's default) a lone half is one code point in this range; pairs are not.
  pattern: '^[^\\uD800-\\uDFFF]*$',
  message: 'must be well-formed Unicode text (it holds a lone UTF-16 surrogate)',
};

const DESCRIBED: readonly DescribedPattern[] = [
  WORKFLOW_NAME_PATTERN,
  SCHEDULE_NAME_PATTERN,
  TASK_ID_PATTERN,
  WELL_FORMED_TEXT_PATTERN,
];

/** The plain-words message for a failed `pattern` of this contract, else undefined. */
export const patternMessage = (pattern: string): string | undefined =>
  DESCRIBED.find((p) => p.pattern === pattern)?.message;

const workflowNameRegExp = new RegExp(WORKFLOW_NAME_PATTERN.pattern, 'u');
const taskIdRegExp = new RegExp(TASK_ID_PATTERN.pattern, 'u');

/** Whether `name` may be a workflow or queue (BullMQ forbids ':'; ours are also no namespace). */
export const isWorkflowName = (name: string): boolean =>
  name.length <= WORKFLOW_NAME_MAX_LENGTH && workflowNameRegExp.test(name);

/** Whether `id` has a task id's shape: one that can only name a job hash (the schema's rule). */
export const isTaskId = (id: string): boolean =>
  id.length <= TASK_ID_MAX_LENGTH && taskIdRegExp.test(id);

export const WorkflowName = Type.String({
  minLength: 1,
  maxLength: WORKFLOW_NAME_MAX_LENGTH,
  pattern: WORKFLOW_NAME_PATTERN.pattern,
});

export const TaskIdParams = Type.Object({
  id: Type.String({
    minLength: 3,
    maxLength: TASK_ID_MAX_LENGTH,
    pattern: TASK_ID_PATTERN.pattern,
    description: '<workflow>:<BullMQ job id>',
  }),
});
export type TaskIdParams = Static<typeof TaskIdParams>;
