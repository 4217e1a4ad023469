import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { defaultUiDir } from '../src/paths.ts';
import type { Taskdock } from '../src/taskdock.ts';
import { killPids, trackResources } from './helpers/process.ts';
import { testTaskdock } from './helpers/stack.ts';

// `npm run serve` on a fresh clone (no frontend/out): the printed link shows how to build the
// UI instead of a bare JSON error, and the same link signs in once the build is there.

describe('a stack whose UI is not built yet', () => {
  const resources = trackResources();
  let taskdock: Taskdock | undefined;
  after(async () => {
    const pids = Object.values(taskdock?.runtime()?.pids ?? {});
    await taskdock?.stop();
    await killPids(pids);
  });

  test('the UI dir is given to the backend even before the build exists', () => {
    const repoRoot = path.join(path.sep, 'nowhere', 'taskdock');
    assert.equal(
      defaultUiDir({ kind: 'source', repoRoot }),
      path.join(repoRoot, 'frontend', 'out'),
    );
    assert.equal(
      defaultUiDir({ kind: 'packaged', resourcesPath: '/opt/Taskdock/resources' }),
      path.join('/opt/Taskdock/resources', 'ui'),
    );
  });

  test('the sign-in link says "not built", stays unused, and signs in after the build', async () => {
    const dataDir = await resources.dataDir();
    const uiDir = path.join(dataDir, 'ui-out');
    taskdock = testTaskdock(dataDir, { env: { TASKDOCK_UI_DIR: uiDir } });
    const runtime = await taskdock.start();
    for (const pid of Object.values(runtime.pids)) resources.pids.add(pid);
    const open = () => fetch(runtime.uiUrl, { redirect: 'manual' });

    const unbuilt = await open();
    assert.equal(unbuilt.status, 503);
    const page = await unbuilt.text();
    assert.match(page, /npm run build:frontend/);
    assert.equal(unbuilt.headers.get('set-cookie'), null);

    await mkdir(uiDir);
    await writeFile(path.join(uiDir, 'index.html'), '<!doctype html><title>dashboard</title>');
    const built = await open();
    assert.equal(built.status, 303, 'no restart needed');
    assert.match(built.headers.get('set-cookie') ?? '', /^taskdock_session_/);
  });
});
