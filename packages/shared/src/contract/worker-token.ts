import { type Static, Type } from '@sinclair/typebox';

/** Bounds of worker tokens: shared by the API schema and the engine. */
export const WORKER_TOKEN_LIMITS = {
  maxNameLength: 100,
  /** Globs a token (or a lease request) may name. */
  maxGlobs: 50,
  maxGlobLength: 100,
  /** Live worker tokens at once. */
  maxTokens: 1000,
} as const;

/** A workflow name or a glob over names (`*`, `?`), as TASKDOCK_WORKFLOWS takes them. */
export const WorkflowGlob = Type.String({
  minLength: 1,
  maxLength: WORKER_TOKEN_LIMITS.maxGlobLength,
  pattern: '^[A-Za-z0-9_.*?-]+$',
});

export const WorkflowGlobs = Type.Array(WorkflowGlob, {
  minItems: 1,
  maxItems: WORKER_TOKEN_LIMITS.maxGlobs,
});

export const CreateWorkerToken = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: WORKER_TOKEN_LIMITS.maxNameLength,
      pattern: '^[^\\u0000-\\u001F\\uD800-\\uDFFF]+$',
    }),
    /** Workflows the token may lease and declare; default `*` (all remote workflows). */
    workflows: Type.Optional(WorkflowGlobs),
  },
  { additionalProperties: false },
);
export type CreateWorkerToken = Static<typeof CreateWorkerToken>;

/** A worker token as listed: never the token itself, which only the create answer shows. */
export const WorkerToken = Type.Object({
  id: Type.String(),
  name: Type.String(),
  workflows: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  /** Last time a request carried it. */
  lastUsedAt: Type.Optional(Type.String({ format: 'date-time' })),
});
export type WorkerToken = Static<typeof WorkerToken>;

export const CreatedWorkerToken = Type.Intersect([
  WorkerToken,
  Type.Object({ token: Type.String({ description: 'shown once; stored hashed' }) }),
]);
export type CreatedWorkerToken = Static<typeof CreatedWorkerToken>;

export const WorkerTokenList = Type.Object({ items: Type.Array(WorkerToken) });
export type WorkerTokenList = Static<typeof WorkerTokenList>;

export const WorkerTokenIdParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
});
export type WorkerTokenIdParams = Static<typeof WorkerTokenIdParams>;
