import { type Static, Type } from '@sinclair/typebox';

export const WorkerInfo = Type.Object({
  id: Type.String(),
  host: Type.String(),
  pid: Type.Integer(),
  workflows: Type.Array(Type.String()),
  concurrency: Type.Integer(),
  running: Type.Integer(),
  /** Ids of the tasks it runs right now. */
  activeTasks: Type.Array(Type.String()),
  startedAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
});
export type WorkerInfo = Static<typeof WorkerInfo>;

export const Health = Type.Object({ status: Type.Literal('ok') });

export const Readiness = Type.Object({
  ready: Type.Boolean(),
  redis: Type.Object({
    ok: Type.Boolean(),
    latencyMs: Type.Optional(Type.Number()),
    error: Type.Optional(Type.String()),
  }),
  workers: Type.Array(WorkerInfo),
});
export type Readiness = Static<typeof Readiness>;

export const WorkflowInfo = Type.Object({
  name: Type.String(),
  description: Type.String(),
  paramsSchema: Type.Unknown(),
  workers: Type.Integer({ description: 'live workers serving this workflow' }),
});
export type WorkflowInfo = Static<typeof WorkflowInfo>;

export const WorkflowList = Type.Object({ items: Type.Array(WorkflowInfo) });
export type WorkflowList = Static<typeof WorkflowList>;
