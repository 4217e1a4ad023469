// ENTRY: `npm run bench [-- --quick] [-- --scale]`. Starts its own redis-server with the app's
// configuration, measures raw BullMQ and Taskdock side by side, prints a table and, last, one
// JSON line. `--scale` measures only throughput with 1, 2 and 4 worker processes (scale.ts).
import type { Stats } from '@taskdock/shared/contract';
import { startBenchBackend } from './backend.ts';
import {
  apiCreate,
  coldStart,
  e2eLatency,
  fillTasks,
  listLatency,
  pageCursor,
  queueDrained,
  rawBullmqJobsPerSec,
  relayCaughtUp,
  startWorker,
  taskdockJobsPerSec,
} from './measures.ts';
import { measureMemoryMode } from './memory-mode.ts';
import { round } from './processes.ts';
import { redisStore, startBenchRedis } from './redis.ts';
import { measureRemoteWorkers } from './remote-workers.ts';
import { runScaleBench } from './scale.ts';

const SIZES = {
  full: {
    jobs: 20_000,
    rounds: 2,
    rate: 2000,
    seconds: 10,
    e2e: 200,
    listTasks: 100_000,
    listSamples: 300,
    remoteTasks: 5000,
  },
  quick: {
    jobs: 5000,
    rounds: 1,
    rate: 2000,
    seconds: 5,
    e2e: 50,
    listTasks: 20_000,
    listSamples: 100,
    remoteTasks: 2000,
  },
  // For the test that checks the summary's shape only.
  tiny: {
    jobs: 200,
    rounds: 1,
    rate: 200,
    seconds: 1,
    e2e: 5,
    listTasks: 500,
    listSamples: 10,
    remoteTasks: 50,
  },
} as const;
const size = process.argv.includes('--tiny')
  ? 'tiny'
  : process.argv.includes('--quick')
    ? 'quick'
    : 'full';
const plan = SIZES[size];
const CONCURRENCY = 50;

const log = (text: string) => process.stderr.write(`${text}\n`);
if (process.argv.includes('--scale')) {
  await runScaleBench({ jobs: plan.jobs, rounds: plan.rounds, concurrency: CONCURRENCY, log });
  process.exit(0);
}
const redis = await startBenchRedis();
const store = redisStore(redis.url);
const backend = await startBenchBackend(store.env);
const { api } = backend;

try {
  log(
    `bench (${size}): ${plan.jobs} no-op jobs x ${plan.rounds} rounds, concurrency ${CONCURRENCY}`,
  );
  let raw = 0;
  let ours = 0;
  for (let r = 0; r < plan.rounds; r++) {
    raw = Math.max(raw, await rawBullmqJobsPerSec(redis.url, plan.jobs, CONCURRENCY));
    ours = Math.max(ours, await taskdockJobsPerSec(api, store, plan.jobs, CONCURRENCY));
    log(`  round ${r + 1}: raw ${Math.round(raw)}/s, taskdock ${Math.round(ours)}/s`);
  }

  // The API alone (the event relay runs in it as always); no worker competes for the 2 cores.
  log(`POST /api/tasks at ${plan.rate}/s for ${plan.seconds} s`);
  const create = await apiCreate(api, plan.rate, plan.seconds);
  await relayCaughtUp(api);
  const worker = startWorker(store.env, CONCURRENCY);
  await worker.waitFor('"worker ready"');
  // Idle means idle: the worker first runs what the API test queued.
  await queueDrained(api);
  log(`end-to-end latency, ${plan.e2e} tasks one at a time`);
  const e2e = await e2eLatency(api, plan.e2e);
  await worker.stop();

  log(`remote worker: ${plan.remoteTasks} tasks leased max 10 and completed, then long-polls`);
  const remote = await measureRemoteWorkers(api, plan);

  log(`filling to ${plan.listTasks} stored tasks`);
  const stats = (await (
    await fetch(`${api.base}/api/stats`, { headers: api.headers })
  ).json()) as Stats;
  const stored = stats.totals.created;
  await fillTasks(api, plan.listTasks, stored);
  // Lists are measured in the steady state, not while the relay indexes the fill.
  await relayCaughtUp(api);
  const first = await listLatency(api, 'limit=50', plan.listSamples);
  const filtered = await listLatency(api, 'status=queued&workflow=http&limit=50', plan.listSamples);
  const deepCursor = await pageCursor(api, Math.min(200, plan.listTasks / 200));
  const deep = await listLatency(api, `limit=50&cursor=${deepCursor}`, plan.listSamples);
  // Search as the UI's box sends it: a substring (an owner), and a workflow word with a status.
  const search = await listLatency(api, 'q=owner-3&limit=50', plan.listSamples);
  const searchStatus = await listLatency(api, 'q=sleep&status=queued&limit=50', plan.listSamples);

  log('cold start of the supervisor (bundles, as packaged)');
  const start = await coldStart();

  log(`memory mode: ${plan.jobs} no-op tasks x ${plan.rounds}, POST /api/tasks at ${plan.rate}/s`);
  const memory = await measureMemoryMode({ ...plan, concurrency: CONCURRENCY });

  const summary = {
    rawBullmqJobsPerSec: Math.round(raw),
    taskdockJobsPerSec: Math.round(ours),
    throughputRatioVsRawBullmq: round(ours / raw, 3),
    ...create,
    ...e2e,
    ...remote,
    listFirstPageP99Ms: first.p99,
    listFilteredP99Ms: filtered.p99,
    listDeepP99Ms: deep.p99,
    listSearchP99Ms: search.p99,
    listSearchWithStatusP99Ms: searchStatus.p99,
    coldStartMs: start.coldStartMs,
    idleRssMb: start.idleRssMb,
    memoryJobsPerSec: memory.memoryJobsPerSec,
    memoryThroughputRatioVsRawBullmq: round(memory.memoryJobsPerSec / raw, 3),
    // Its p50 may round to 0 ms (histogram of whole ms): the table shows it, the JSON holds p99.
    memoryApiCreateP99Ms: memory.memoryApiCreateP99Ms,
    memoryIdleRssMb: memory.memoryIdleRssMb,
    memoryColdStartMs: memory.memoryColdStartMs,
  };
  const rows: [string, string, string][] = [
    ['raw BullMQ no-op jobs/s', String(summary.rawBullmqJobsPerSec), ''],
    ['Taskdock no-op tasks/s', String(summary.taskdockJobsPerSec), ''],
    ['throughput ratio', String(summary.throughputRatioVsRawBullmq), '≥ 0.8'],
    [
      `POST /api/tasks p50 / p99 ms (${plan.rate}/s)`,
      `${create.apiCreateP50Ms} / ${create.apiCreateP99Ms}`,
      'p99 < 5',
    ],
    ['POST /api/tasks req/s', String(create.apiCreateRps), ''],
    ['end-to-end p50 / p99 ms', `${e2e.e2eLatencyP50Ms} / ${e2e.e2eLatencyP99Ms}`, 'p50 < 5'],
    ['remote worker lease → complete per s (max 10)', String(remote.remoteRoundTripsPerSec), ''],
    [
      'remote create → waiting long-poll p50 / p99 ms',
      `${remote.remoteLongPollP50Ms} / ${remote.remoteLongPollP99Ms}`,
      'p99 < 50',
    ],
    [
      `list first page p50 / p99 ms (${plan.listTasks} tasks)`,
      `${first.p50} / ${first.p99}`,
      'p99 < 20',
    ],
    ['list filtered page p50 / p99 ms', `${filtered.p50} / ${filtered.p99}`, 'p99 < 20'],
    ['list deep page p50 / p99 ms', `${deep.p50} / ${deep.p99}`, 'p99 < 20'],
    ['list search page (q=owner-3) p50 / p99 ms', `${search.p50} / ${search.p99}`, 'p99 < 20'],
    [
      'list search + status page (q=sleep&status=queued) p50 / p99 ms',
      `${searchStatus.p50} / ${searchStatus.p99}`,
      'p99 < 20',
    ],
    [
      'cold start ms (supervisor from the bundles, to runtime.json)',
      String(start.coldStartMs),
      '< 1500',
    ],
    ['idle RSS MB (redis + worker + backend)', String(start.idleRssMb), '< 200'],
    ['memory mode no-op tasks/s', String(memory.memoryJobsPerSec), ''],
    [
      'memory mode throughput ratio vs raw BullMQ',
      String(summary.memoryThroughputRatioVsRawBullmq),
      '≥ 1',
    ],
    [
      `memory mode POST /api/tasks p50 / p99 ms (${plan.rate}/s)`,
      `${memory.memoryApiCreateP50Ms} / ${memory.memoryApiCreateP99Ms}`,
      'p99 < 2',
    ],
    ['memory mode idle RSS MB (the backend alone)', String(memory.memoryIdleRssMb), '< 120'],
    ['memory mode cold start ms (to runtime.json)', String(memory.memoryColdStartMs), '< 1000'],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`\n${'measure'.padEnd(width)}  value            target`);
  for (const [name, value, target] of rows)
    console.log(`${name.padEnd(width)}  ${value.padEnd(16)} ${target}`);
  console.log(JSON.stringify(summary));
} finally {
  await backend.stop();
  await redis.stop();
}
