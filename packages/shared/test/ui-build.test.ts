import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isAlive } from '../src/node/processes.ts';
import { startUiBuild, uiBuildNeeded } from '../src/node/ui-build.ts';
import { readUiBuildStatus, uiBuildFiles } from '../src/node/ui-build-status.ts';

// A checkout whose frontend's `next` is a small script: the real build takes a minute (the
// fresh-clone e2e test runs it); this runs the same child process, log, status and stop.

let root: string;
before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'taskdock-ui-build-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A checkout at `name` whose `next build` runs `body` (plain node, cwd = frontend/). */
async function checkout(name: string, body: string): Promise<string> {
  const repo = path.join(root, name);
  const bin = path.join(repo, 'frontend', 'node_modules', 'next', 'dist', 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(path.join(repo, 'frontend', 'package.json'), '{"name":"f","private":true}');
  await writeFile(path.join(repo, 'frontend', 'node_modules', 'next', 'package.json'), '{}');
  await writeFile(path.join(bin, 'next'), body);
  return repo;
}

const WRITES_EXPORT = `const fs = require('node:fs');
if (process.argv[2] !== 'build') process.exit(2);
console.log('Creating an optimized production build ...');
fs.mkdirSync('out', { recursive: true });
fs.writeFileSync('out/index.html', '<title>dashboard</title>');
console.log('Exporting (3/3)');`;

describe('whether a start builds the UI', () => {
  test('a checkout without frontend/out/index.html: yes, into frontend/out', async () => {
    const repo = await checkout('needed', WRITES_EXPORT);
    const plan = uiBuildNeeded({ checkoutRoot: repo, configuredUiDir: undefined });
    assert.equal(plan?.uiDir, path.join(repo, 'frontend', 'out'));
    assert.equal(plan?.log, `${path.join(repo, 'frontend', 'out')}.build.log`);
  });

  test('a package, a TASKDOCK_UI_DIR, a built UI or no frontend/: no', async () => {
    const repo = await checkout('not-needed', WRITES_EXPORT);
    assert.equal(uiBuildNeeded({ checkoutRoot: undefined, configuredUiDir: undefined }), null);
    assert.equal(uiBuildNeeded({ checkoutRoot: repo, configuredUiDir: '/srv/ui' }), null);
    await mkdir(path.join(repo, 'frontend', 'out'));
    await writeFile(path.join(repo, 'frontend', 'out', 'index.html'), 'x');
    assert.equal(uiBuildNeeded({ checkoutRoot: repo, configuredUiDir: undefined }), null);
    const bare = path.join(root, 'no-frontend');
    await mkdir(bare);
    assert.equal(uiBuildNeeded({ checkoutRoot: bare, configuredUiDir: undefined }), null);
  });
});

describe('the first-start build', () => {
  const run = (repo: string, timeoutMs?: number) => {
    const plan = uiBuildNeeded({ checkoutRoot: repo, configuredUiDir: undefined });
    assert.ok(plan);
    return startUiBuild(plan, { execPath: process.execPath, env: process.env, timeoutMs }).then(
      (build) => ({ plan, build }),
    );
  };

  test('says "building" while it runs, then builds the export and clears the status', async () => {
    const repo = await checkout(
      'builds',
      `setTimeout(() => { ${WRITES_EXPORT.replace("const fs = require('node:fs');", '')} }, 800);
const fs = require('node:fs');`,
    );
    const { plan, build } = await run(repo);
    assert.ok(build.pid && isAlive(build.pid));
    assert.deepEqual(await readUiBuildStatus(plan.uiDir), {
      state: 'building',
      pid: build.pid,
      log: plan.log,
    });
    const second = await run(repo);
    assert.deepEqual(
      await second.build.done,
      { outcome: 'elsewhere', pid: build.pid },
      'one build',
    );

    const result = await build.done;
    assert.equal(result.outcome, 'built');
    assert.ok(existsSync(path.join(plan.uiDir, 'index.html')));
    assert.equal(await readUiBuildStatus(plan.uiDir), null);
    assert.match(await readFile(plan.log, 'utf8'), /Creating an optimized production build/);
  });

  test('a failing build says why (its last lines) in the result and the status file', async () => {
    const repo = await checkout(
      'fails',
      `console.log('Creating an optimized production build ...');
console.error('Type error: Property "x" does not exist');
process.exit(1);`,
    );
    const { plan, build } = await run(repo);
    const result = await build.done;
    assert.equal(result.outcome, 'failed');
    assert.match(
      result.outcome === 'failed' ? result.message : '',
      /exited with code 1: .*Type error/,
    );
    const status = await readUiBuildStatus(plan.uiDir);
    assert.equal(status?.state, 'failed');
    assert.match(status?.state === 'failed' ? status.message : '', /Type error/);
  });

  test('stop() ends the build and its children and forgets it; a hung build times out', async () => {
    const repo = await checkout(
      'hangs',
      `require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'inherit' });
setInterval(() => {}, 1000);`,
    );
    const { plan, build } = await run(repo);
    assert.ok(build.pid);
    await build.stop();
    assert.equal(isAlive(build.pid), false);
    assert.equal(await readUiBuildStatus(plan.uiDir), null, 'the next start builds again');

    const timed = await run(repo, 500);
    const result = await timed.build.done;
    assert.match(
      result.outcome === 'failed' ? result.message : '',
      /longer than 1 s and was stopped/,
    );
    assert.equal(isAlive(timed.build.pid ?? 0), false);
  });

  test('a checkout without next installed fails at once, saying to run npm install', async () => {
    const repo = path.join(root, 'no-next');
    await mkdir(path.join(repo, 'frontend'), { recursive: true });
    await writeFile(path.join(repo, 'frontend', 'package.json'), '{"name":"f","private":true}');
    const { plan, build } = await run(repo);
    assert.equal(build.pid, undefined);
    const result = await build.done;
    assert.match(result.outcome === 'failed' ? result.message : '', /npm install/);
    assert.equal((await readUiBuildStatus(plan.uiDir))?.state, 'failed');
    assert.equal(existsSync(uiBuildFiles(plan.uiDir).status), true);
  });
});
