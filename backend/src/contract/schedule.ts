import { type Static, Type } from '@sinclair/typebox';
import { Label, TaskParams } from './task.ts';
import { SCHEDULE_NAME_MAX_LENGTH, SCHEDULE_NAME_PATTERN, WorkflowName } from './task-id.ts';

/** Cron schedules: each is a BullMQ job scheduler on its workflow's queue. */
export const Schedule = Type.Object({
  id: Type.String(),
  workflow: Type.String(),
  pattern: Type.String(),
  tz: Type.Optional(Type.String()),
  params: Type.Unknown(),
  nextRunAt: Type.Optional(Type.String({ format: 'date-time' })),
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

export const UpsertSchedule = Type.Object(
  {
    workflow: WorkflowName,
    pattern: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'cron pattern as BullMQ reads it (5 fields, or 6 with seconds first)',
    }),
    tz: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: 'IANA time zone, e.g. Europe/Paris',
      }),
    ),
    params: Type.Optional(TaskParams),
    owner: Type.Optional(Label),
  },
  { additionalProperties: false },
);
export type UpsertSchedule = Static<typeof UpsertSchedule>;

export const ScheduleList = Type.Object({ items: Type.Array(Schedule) });
export type ScheduleList = Static<typeof ScheduleList>;
