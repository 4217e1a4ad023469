import { type Static, Type } from '@sinclair/typebox';
import { Label, TaskParams, TaskStatus } from './task.ts';
import { SCHEDULE_NAME_MAX_LENGTH, SCHEDULE_NAME_PATTERN, WorkflowName } from './task-id.ts';

const IsoDate = Type.String({ format: 'date-time' });

/** How many coming run times a schedule and a pattern check list. */
export const SCHEDULE_NEXT_RUNS = 5;

/** The newest task a schedule made that is due (not the one waiting for its time). */
export const ScheduleRun = Type.Object({
  taskId: Type.String(),
  status: TaskStatus,
  createdAt: IsoDate,
  finishedAt: Type.Optional(IsoDate),
  error: Type.Optional(Type.String()),
});
export type ScheduleRun = Static<typeof ScheduleRun>;

/** Cron schedules: each is a BullMQ job scheduler on its workflow's queue while it is active. */
export const Schedule = Type.Object({
  id: Type.String(),
  workflow: Type.String(),
  pattern: Type.String(),
  tz: Type.Optional(Type.String()),
  params: Type.Unknown(),
  owner: Type.Optional(Type.String()),
  /** A paused schedule keeps its definition and makes no task until resumed. */
  paused: Type.Boolean(),
  /** The run BullMQ has queued (its task exists, `scheduled`); absent while paused. */
  nextRunAt: Type.Optional(IsoDate),
  /** The coming SCHEDULE_NEXT_RUNS run times from now; empty while paused. */
  nextRuns: Type.Array(IsoDate, { maxItems: SCHEDULE_NEXT_RUNS }),
  lastRun: Type.Optional(ScheduleRun),
  /** Its tasks still stored (finished ones are removed after the retention period). */
  taskCount: Type.Integer({ minimum: 0 }),
});
export type Schedule = Static<typeof Schedule>;

export const ScheduleNameParams = Type.Object({
  name: Type.String({
    minLength: 1,
    maxLength: SCHEDULE_NAME_MAX_LENGTH,
    pattern: SCHEDULE_NAME_PATTERN.pattern,
  }),
});
export type ScheduleNameParams = Static<typeof ScheduleNameParams>;

const SchedulePattern = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'cron pattern as BullMQ reads it (5 fields, or 6 with seconds first)',
});
const TimeZone = Type.String({
  minLength: 1,
  maxLength: 100,
  description: 'IANA time zone, e.g. Europe/Paris',
});

export const UpsertSchedule = Type.Object(
  {
    workflow: WorkflowName,
    pattern: SchedulePattern,
    tz: Type.Optional(TimeZone),
    params: Type.Optional(TaskParams),
    owner: Type.Optional(Label),
  },
  { additionalProperties: false },
);
export type UpsertSchedule = Static<typeof UpsertSchedule>;

/** `POST /api/schedules/check`: a pattern and zone judged as a schedule's would be. */
export const CheckSchedule = Type.Object(
  { pattern: SchedulePattern, tz: Type.Optional(TimeZone) },
  { additionalProperties: false },
);
export type CheckSchedule = Static<typeof CheckSchedule>;

export const ScheduleCheck = Type.Object({
  nextRuns: Type.Array(IsoDate, { maxItems: SCHEDULE_NEXT_RUNS }),
});
export type ScheduleCheck = Static<typeof ScheduleCheck>;

export const ScheduleList = Type.Object({ items: Type.Array(Schedule) });
export type ScheduleList = Static<typeof ScheduleList>;
