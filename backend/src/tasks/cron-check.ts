import { type FieldError, SCHEDULE_NEXT_RUNS } from '@taskdock/shared/contract';
import { defaultRepeatStrategy } from 'bullmq';
import { InvalidInputError } from '../engine/errors.ts';

/**
 * What is wrong with a schedule's cron pattern and time zone, each against its own field and in
 * plain words; empty when BullMQ will accept them. The pattern goes through BullMQ's own repeat
 * strategy (cron-parser, as `upsertJobScheduler` reads it), so "valid" means what BullMQ means.
 * Paths are relative to the schedule (`/pattern`, `/tz`).
 */
export function checkCronSchedule(pattern: string, tz: string | undefined) {
  const errors: FieldError[] = [];
  if (tz !== undefined && !isTimeZone(tz)) {
    errors.push({
      path: '/tz',
      message: `"${tz}" is not a known time zone; use an IANA name such as "Europe/Paris" or "UTC"`,
    });
  }
  if (pattern.trim() === '') {
    // cron-parser reads a blank pattern as "* * * * *": it would fire every minute.
    errors.push({
      path: '/pattern',
      message: 'is blank; give a cron pattern such as "0 * * * *"',
    });
    return errors;
  }
  // A bad zone makes cron-parser fail with a message about timestamps: judge the pattern in UTC.
  const zone = errors.length === 0 ? tz : undefined;
  let next: number | undefined;
  try {
    next = defaultRepeatStrategy(Date.now(), { pattern, ...(zone ? { tz: zone } : {}) });
  } catch (err) {
    errors.push({
      path: '/pattern',
      message: `is not a valid cron pattern: ${(err as Error).message}`,
    });
    return errors;
  }
  if (next === undefined) {
    errors.push({ path: '/pattern', message: 'never matches a time to run at' });
  }
  return errors;
}

/**
 * The next `count` run times (epoch ms) after `from` of a pattern and zone that
 * checkCronSchedule accepted, as BullMQ's repeat strategy computes them.
 */
export function nextRunTimes(
  pattern: string,
  tz: string | undefined,
  count = SCHEDULE_NEXT_RUNS,
  from = Date.now(),
): number[] {
  const times: number[] = [];
  for (let at = from; times.length < count; ) {
    const next = defaultRepeatStrategy(at, { pattern, ...(tz ? { tz } : {}) });
    if (next === undefined || next <= at) break;
    times.push(next);
    at = next;
  }
  return times;
}

/** A pattern's coming runs as ISO dates; InvalidInputError INVALID_SCHEDULE when it is bad. */
export function previewCronSchedule(pattern: string, tz: string | undefined): string[] {
  const problems = checkCronSchedule(pattern, tz);
  if (problems.length > 0) {
    throw new InvalidInputError('INVALID_SCHEDULE', 'Invalid schedule', problems, true);
  }
  return nextRunTimes(pattern, tz).map((t) => new Date(t).toISOString());
}

/** Whether the platform's time zone data knows `tz` (cron-parser's luxon asks the same Intl). */
function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
