import cronstrue from 'cronstrue';

/** A cron pattern in words ("At 09:00, Monday through Friday"), or why it cannot be read. */
export function describeCron(pattern: string): { words: string } | { problem: string } {
  try {
    return {
      words: cronstrue.toString(pattern, {
        use24HourTimeFormat: true,
        throwExceptionOnParseError: true,
      }),
    };
  } catch (err) {
    return { problem: String(err instanceof Error ? err.message : err).replace(/^Error: /, '') };
  }
}

/** The zone the browser is in: the default of a new schedule, so its times read as expected. */
export const browserTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** Every IANA zone the browser knows, for the zone field's suggestions. */
export function timeZones(): string[] {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
  return intl.supportedValuesOf?.('timeZone') ?? [];
}

const runFormats = new Map<string, Intl.DateTimeFormat>();

/** "Wed, Dec 2, 09:00 CET": a run time in the schedule's zone (the server's when it has none). */
export function formatRunTime(iso: string, tz: string | undefined): string {
  const key = tz ?? '';
  let format = runFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(undefined, {
      weekday: 'short',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
      ...(tz ? { timeZone: tz } : {}),
    });
    runFormats.set(key, format);
  }
  return format.format(new Date(iso));
}

/** The task list narrowed to the tasks a schedule made (their source is `schedule:<name>`). */
export const scheduleTasksHref = (name: string) =>
  `/tasks?q=${encodeURIComponent(`schedule:${name}`)}`;
