import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KEYS = [
  'rawBullmqJobsPerSec',
  'taskdockJobsPerSec',
  'throughputRatioVsRawBullmq',
  'apiCreateP50Ms',
  'apiCreateP99Ms',
  'apiCreateRps',
  'e2eLatencyP50Ms',
  'e2eLatencyP99Ms',
  'remoteRoundTripsPerSec',
  'remoteLongPollP50Ms',
  'remoteLongPollP99Ms',
  'listFirstPageP99Ms',
  'listFilteredP99Ms',
  'listDeepP99Ms',
  'listSearchP99Ms',
  'listSearchWithStatusP99Ms',
  'coldStartMs',
  'idleRssMb',
  'memoryJobsPerSec',
  'memoryThroughputRatioVsRawBullmq',
  'memoryApiCreateP99Ms',
  'memoryIdleRssMb',
  'memoryColdStartMs',
];

// Shape only: a tiny run on a busy CI machine says nothing about speed (`npm run bench` does).
test('the bench ends with one JSON line holding every measure as a number', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/bench/main.ts', '--tiny'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 240_000,
  });
  assert.equal(run.status, 0, run.stderr.slice(-3000));
  const lines = run.stdout.trim().split('\n');
  const summary = JSON.parse(lines.at(-1) as string) as Record<string, unknown>;
  assert.deepEqual(Object.keys(summary).sort(), [...KEYS].sort());
  for (const key of KEYS) {
    assert.ok(
      typeof summary[key] === 'number' && Number.isFinite(summary[key]) && summary[key] > 0,
      key,
    );
  }
  assert.ok(
    lines.some((line) => line.startsWith('throughput ratio')),
    'the table is printed too',
  );
});
