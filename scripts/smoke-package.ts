// ENTRY (tooling): `npm run smoke:package [-- --resources <dir>]`, after `npm run dist:dir`.
// Checks the unpacked app's resources (default: the one release/*-unpacked/resources):
//   1. resources/redis/ holds one redis-server for this platform, with the sha256 recorded in
//      its lock (and in resources-source/redis/<host>/redis-server.lock.json when there is
//      one), that runs --version and links only the C library;
//   2. resources/bundles/headless.mjs, run with plain `node` standing in for the app's
//      Electron-as-Node, starts redis-server, worker and backend from the resources in a fresh
//      data dir; one shell task completes through the API; the UI and /api/health/ready answer;
//      after SIGTERM nothing it started is left running and runtime.json is gone.
// The checks live in scripts/lib/package-smoke.ts (the dist:dir layout test runs them too).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  checkBundledRedis,
  findUnpackedResources,
  PackageCheckError,
  smokePackage,
} from './lib/package-smoke.ts';
import { REDIS_DIR, ROOT } from './lib/redis-manifest.ts';

const { values } = parseArgs({
  options: {
    resources: { type: 'string' },
    'timeout-ms': { type: 'string', default: '60000' },
  },
});
const say = (message: string) => console.log(`smoke:package: ${message}`);

async function main(): Promise<void> {
  const began = Date.now();
  const resources = values.resources
    ? path.resolve(values.resources)
    : findUnpackedResources(path.join(ROOT, 'release'));
  if (!existsSync(resources)) throw new PackageCheckError(`${resources} does not exist`);
  const timeoutMs = Number(values['timeout-ms']);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1000) {
    throw new PackageCheckError(
      `--timeout-ms must be an integer ≥ 1000, got ${values['timeout-ms']}`,
    );
  }
  say(`resources: ${path.relative(process.cwd(), resources) || '.'}`);

  const recordedLock = path.join(
    REDIS_DIR,
    `${process.platform}-${process.arch}`,
    'redis-server.lock.json',
  );
  const redis = await checkBundledRedis(
    resources,
    existsSync(recordedLock) ? recordedLock : undefined,
  );
  say(`redis-server: ${redis.version}`);
  say(`  sha256 ${redis.sha256} (as locked${existsSync(recordedLock) ? ' and recorded' : ''})`);
  if (redis.linkage.length > 0)
    say(`  links only the C library: ${redis.linkage.map((l) => l.split(' ')[0]).join(', ')}`);

  const result = await smokePackage(resources, {
    startTimeoutMs: timeoutMs,
    taskTimeoutMs: timeoutMs,
    stopTimeoutMs: timeoutMs,
    log: say,
  });
  say(
    `PASSED in ${((Date.now() - began) / 1000).toFixed(1)} s (start ${result.startMs} ms, ` +
      `task ${result.taskMs} ms, stop ${result.stopMs} ms)`,
  );
}

try {
  await main();
} catch (err) {
  const known = err instanceof PackageCheckError;
  console.error(`smoke:package: FAILED: ${known ? (err as Error).message : (err as Error).stack}`);
  process.exit(1);
}
