import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Schedule, ScheduleCheck, ScheduleList, TaskList } from '@taskdock/shared/contract';
import { startStack, type TestStack } from '../helpers/stack.ts';

describe('schedules API', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  const put = (name: string, payload: object) =>
    stack.request({ method: 'PUT', url: `/api/schedules/${name}`, payload });
  const post = (url: string, payload?: object) =>
    stack.request({ method: 'POST', url, ...(payload ? { payload } : {}) });
  const schedules = async () =>
    (await stack.request({ method: 'GET', url: '/api/schedules' })).json<ScheduleList>().items;

  test('check: the next five runs of a pattern in its zone, errors at their own field', async () => {
    const weekdays = await post('/api/schedules/check', {
      pattern: '0 9 * * 1-5',
      tz: 'Europe/Paris',
    });
    assert.equal(weekdays.statusCode, 200);
    const { nextRuns } = weekdays.json<ScheduleCheck>();
    assert.equal(nextRuns.length, 5);
    for (const run of nextRuns) {
      const paris = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Paris',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
      }).format(new Date(run));
      assert.match(paris, /^(Mon|Tue|Wed|Thu|Fri) 09:00$/, `${run} is ${paris} in Paris`);
      assert.ok(Date.parse(run) > Date.now());
    }
    assert.deepEqual([...nextRuns].sort(), nextRuns, 'oldest first');

    const zone = await post('/api/schedules/check', { pattern: '0 9 * * *', tz: 'Mars/Olympus' });
    assert.equal(zone.statusCode, 400);
    const zoneError = zone.json().error;
    assert.deepEqual(
      zoneError.details.map((d: { path: string }) => d.path),
      ['/body/tz'],
      'a bad zone is reported against the zone, not the pattern',
    );
    assert.match(zoneError.details[0].message, /Mars\/Olympus.*not a known time zone/);
    assert.doesNotMatch(JSON.stringify(zoneError), /CronDate|unhandled timestamp/);

    const pattern = await post('/api/schedules/check', { pattern: '0 25 * * *' });
    assert.equal(pattern.statusCode, 400);
    assert.equal(pattern.json().error.details[0].path, '/body/pattern');
  });

  test('a schedule lists its next runs, pauses, resumes and keeps its tasks apart', async () => {
    const created = await put('every-second', {
      workflow: 'sleep',
      pattern: '* * * * * *',
      params: { ms: 0 },
      owner: 'cron',
    });
    assert.equal(created.statusCode, 200, created.body);
    const schedule = created.json<Schedule>();
    assert.equal(schedule.paused, false);
    assert.equal(schedule.owner, 'cron');
    assert.equal(schedule.nextRuns.length, 5);
    assert.ok(schedule.nextRunAt);

    // It runs: the last run is a task of this schedule with its outcome.
    let listed: Schedule | undefined;
    for (let i = 0; i < 100; i++) {
      listed = (await schedules()).find((s) => s.id === 'every-second');
      if (listed?.lastRun?.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(listed?.lastRun?.status, 'completed', JSON.stringify(listed));
    assert.ok(listed?.lastRun?.taskId.startsWith('sleep:repeat:every-second:'));
    assert.ok((listed?.taskCount ?? 0) >= 2, 'the run that ran and the one waiting');

    const paused = (await post('/api/schedules/every-second/pause')).json<Schedule>();
    assert.equal(paused.paused, true);
    assert.deepEqual(paused.nextRuns, []);
    assert.equal(paused.nextRunAt, undefined);
    assert.deepEqual(paused.params, { ms: 0, steps: 1 });
    assert.equal(paused.owner, 'cron');
    // Paused: no new task for two seconds.
    const countAt = async () =>
      (
        await stack.request({ method: 'GET', url: '/api/tasks?q=schedule:every-second&limit=500' })
      ).json<TaskList>().items.length;
    await new Promise((r) => setTimeout(r, 300));
    const before = await countAt();
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(await countAt(), before, 'a paused schedule makes no task');

    // An edit while paused keeps it paused.
    const edited = await put('every-second', {
      workflow: 'sleep',
      pattern: '*/2 * * * * *',
      params: { ms: 1 },
      owner: 'cron',
    });
    assert.equal(edited.json<Schedule>().paused, true);
    assert.equal(edited.json<Schedule>().pattern, '*/2 * * * * *');

    const resumed = (await post('/api/schedules/every-second/resume')).json<Schedule>();
    assert.equal(resumed.paused, false);
    assert.equal(resumed.pattern, '*/2 * * * * *');
    assert.deepEqual(resumed.params, { ms: 1, steps: 1 });
    assert.equal(resumed.nextRuns.length, 5);
    for (let i = 0; i < 100 && (await countAt()) <= before; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok((await countAt()) > before, 'a resumed schedule makes tasks again');

    assert.equal((await post('/api/schedules/nope/pause')).statusCode, 404);
    const removed = await stack.request({ method: 'DELETE', url: '/api/schedules/every-second' });
    assert.equal(removed.statusCode, 204);
    assert.deepEqual(
      (await schedules()).map((s) => s.id),
      [],
    );
  });

  test('a paused schedule can be deleted', async () => {
    assert.equal(
      (await put('nightly', { workflow: 'sleep', pattern: '0 3 * * *', params: { ms: 0 } }))
        .statusCode,
      200,
    );
    assert.equal((await post('/api/schedules/nightly/pause')).statusCode, 200);
    const removed = await stack.request({ method: 'DELETE', url: '/api/schedules/nightly' });
    assert.equal(removed.statusCode, 204);
    assert.deepEqual(await schedules(), []);
    assert.equal((await post('/api/schedules/nightly/resume')).statusCode, 404);
  });
});
