// What `dist`, `dist:dir`, `smoke:package` and `npm start` say when they cannot work: one
// actionable message, never a raw ENOENT or "found 0: none".
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ELECTRON_NODE_TARGET } from '../lib/bundles.ts';
import { electronDistProblem, electronExecutable } from '../lib/electron-dist.ts';
import { ROOT } from '../lib/redis-manifest.ts';

const run = (script: string, args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
};

describe('packaging messages', () => {
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'taskdock-packaging-messages-'));
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  it('TASKDOCK_ELECTRON_DIST: an Electron folder or zip passes; anything else says what to give', async () => {
    const good = path.join(tmp, 'electron-good');
    await mkdir(good);
    await writeFile(electronExecutable(good), '');
    assert.equal(electronDistProblem(good, { zipAllowed: true }), undefined);
    const zip = path.join(tmp, 'electron.zip');
    await writeFile(zip, '');
    assert.equal(electronDistProblem(zip, { zipAllowed: true }), undefined);
    assert.match(electronDistProblem(zip, { zipAllowed: false }) ?? '', /is a file/);
    const empty = path.join(tmp, 'empty');
    await mkdir(empty);
    assert.match(
      electronDistProblem(empty, { zipAllowed: true }) ?? '',
      /holds no Electron build \(electron(\.exe)? is missing|holds no Electron build \(Electron\.app/,
    );
    assert.match(
      electronDistProblem(path.join(tmp, 'nope'), { zipAllowed: true }) ?? '',
      /does not exist: point it at the unpacked electron-v<version>/,
    );
  });

  it('dist:dir with a wrong TASKDOCK_ELECTRON_DIST fails at once with one message', async () => {
    const empty = path.join(tmp, 'not-electron');
    await mkdir(empty, { recursive: true });
    const r = run('scripts/dist.ts', ['--dir'], { TASKDOCK_ELECTRON_DIST: empty });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /dist: FAILED: cannot package/);
    assert.match(r.output, /TASKDOCK_ELECTRON_DIST=.*not-electron holds no Electron build/);
    assert.doesNotMatch(r.output, /ENOENT|rename|at .*\.js:\d+/);
    assert.equal(r.output.match(/FAILED/g)?.length, 1);
  });

  it('smoke:package with nothing packaged says to run dist:dir first', async () => {
    const resources = path.join(tmp, 'release', 'linux-unpacked', 'resources');
    await mkdir(resources, { recursive: true });
    const r = run('scripts/smoke-package.ts', ['--resources', resources]);
    assert.equal(r.code, 1, r.output);
    assert.match(
      r.output,
      /holds no redis-server: not a finished dist:dir\. Run npm run dist:dir first/,
    );
    assert.doesNotMatch(r.output, /found 0/);
  });

  it('a TASKDOCK_PUBLISH_REPOSITORY that is not <owner>/<repo> stops dist before packaging', () => {
    const r = run('scripts/dist.ts', ['--dir'], { TASKDOCK_PUBLISH_REPOSITORY: 'just-a-name' });
    assert.equal(r.code, 1, r.output);
    assert.match(
      r.output,
      /TASKDOCK_PUBLISH_REPOSITORY must be <owner>\/<repo>, got "just-a-name"/,
    );
    assert.equal(r.output.match(/FAILED/g)?.length, 1);
  });

  it('npm start with a wrong TASKDOCK_ELECTRON_DIST names that variable, not another', async () => {
    const r = run('scripts/start-electron.ts', [], {
      TASKDOCK_ELECTRON_DIST: path.join(tmp, 'nope'),
    });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /TASKDOCK_ELECTRON_DIST=.*nope does not exist/);
    assert.doesNotMatch(r.output, /ELECTRON_OVERRIDE_DIST_PATH/);
  });

  it('the bundles target the Node inside the Electron of desktop/package.json', () => {
    const electron = createRequire(path.join(ROOT, 'desktop', 'package.json'))(
      'electron/package.json',
    ) as { version: string };
    const major = Number(electron.version.split('.')[0]);
    assert.ok(major >= 45, `Electron ${electron.version} is older than the supported 45`);
    // Electron 40–45 ship Node 24 (release notes). A newer major: check its Node, extend this.
    assert.ok(major <= 45, `Electron ${major}: check its Node version, then ELECTRON_NODE_TARGET`);
    assert.equal(ELECTRON_NODE_TARGET, 'node24');
  });
});
