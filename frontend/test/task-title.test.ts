import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeCron, scheduleTasksHref } from '../lib/schedules.ts';
import { scheduledRun, taskIdLabel, taskTitle } from '../lib/task-title.ts';

const task = (id: string, workflow: string, params: unknown, schedule?: string) => ({
  id,
  workflow,
  params,
  ...(schedule ? { schedule } : {}),
});

describe('task names', () => {
  test('a schedule run is named after its schedule and run time, not its cut id', () => {
    const id = 'sleep:repeat:nightly-backup:1796152760000';
    assert.deepEqual(scheduledRun(id), { schedule: 'nightly-backup', at: 1796152760000 });
    const { title, named } = taskTitle(task(id, 'sleep', { ms: 10 }));
    assert.equal(named, true);
    assert.match(title, /^nightly-backup · run of /);
    assert.doesNotMatch(title, /…|repeat:/);
    assert.match(taskIdLabel(id), /^nightly-backup · /);
    // The schedule field, when the task has one, is the name.
    assert.equal(taskTitle(task('sleep:abc', 'sleep', {}, 'hourly')).title, 'hourly');
  });

  test('built-in workflows are named by what they run', () => {
    assert.equal(
      taskTitle(task('shell:1', 'shell', { command: 'sh', args: ['-c', 'echo hi'] })).title,
      'sh -c echo hi',
    );
    assert.equal(
      taskTitle(task('http:1', 'http', { url: 'https://example.com/x', method: 'POST' })).title,
      'POST https://example.com/x',
    );
    assert.equal(
      taskTitle(task('http:1', 'http', { url: 'https://a.b' })).title,
      'GET https://a.b',
    );
    assert.equal(taskTitle(task('sleep:1', 'sleep', { ms: 1500 })).title, 'sleep 1.5 s');
    const long = taskTitle(task('shell:1', 'shell', { command: 'x'.repeat(200) })).title;
    assert.ok(long.length <= 60 && long.endsWith('…'));
  });

  test('anything else keeps its id, shortened in the middle', () => {
    const id = 'custom:0123456789abcdef0123456789abcdef';
    const { title, named } = taskTitle(task(id, 'custom', { a: 1 }));
    assert.equal(named, false);
    assert.match(title, /^custom:0123.*…/);
    assert.equal(taskTitle(task('custom:7', 'custom', null)).title, 'custom:7');
  });
});

describe('schedule words', () => {
  test('a cron pattern in words, or why it cannot be read', () => {
    assert.deepEqual(describeCron('0 9 * * 1-5'), { words: 'At 09:00, Monday through Friday' });
    assert.deepEqual(describeCron('*/2 * * * * *'), { words: 'Every 2 seconds' });
    const bad = describeCron('61 * * * *');
    assert.ok('problem' in bad && /minutes/.test(bad.problem), JSON.stringify(bad));
  });

  test('the link to a schedule’s tasks searches its source', () => {
    assert.equal(scheduleTasksHref('nightly'), '/tasks?q=schedule%3Anightly');
  });
});
