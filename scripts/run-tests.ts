// Runs node's test runner on every *.test.ts under the given folders (Node 20's --test takes no
// globs), one file at a time: suites start real redis-servers and processes, and 2 cores are few.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

const folders = process.argv.slice(2);
if (folders.length === 0) {
  console.error('usage: run-tests <folder>...');
  process.exit(2);
}
const files = folders
  .filter((folder) => existsSync(folder))
  .flatMap((folder) =>
    readdirSync(folder, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.test.ts') && !file.split(path.sep).includes('node_modules'))
      .map((file) => path.join(folder, file)),
  )
  .sort();
if (files.length === 0) {
  console.error(`no *.test.ts files under ${folders.join(', ')}`);
  process.exit(1);
}
const run = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', ...files],
  { stdio: 'inherit' },
);
process.exit(run.status ?? 1);
