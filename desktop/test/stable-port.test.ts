import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { RuntimeInfo } from '@taskdock/shared/node/runtime-file';
import type { Taskdock } from '../src/taskdock.ts';
import { killPids, trackResources } from './helpers/process.ts';
import { api, readRuntime, testTaskdock } from './helpers/stack.ts';

// A restarted Taskdock keeps its address (open tabs and bookmarks keep working) unless another
// program took the port meanwhile; then it says so and uses another one.

const portOf = (runtime: RuntimeInfo) => Number(new URL(runtime.apiUrl).port);

describe('the backend port across restarts of the stack', () => {
  const resources = trackResources();
  let current: Taskdock | undefined;
  after(async () => {
    const pids = Object.values(current?.runtime()?.pids ?? {});
    await current?.stop();
    await killPids(pids);
  });

  async function run(dataDir: string, env?: Record<string, string>) {
    current = testTaskdock(dataDir, { env });
    const runtime = await current.start();
    for (const pid of Object.values(runtime.pids)) resources.pids.add(pid);
    return { taskdock: current, runtime };
  }

  test('a restart on the same data dir listens on the same port, with a fresh sign-in link', async () => {
    const dataDir = await resources.dataDir();
    const first = await run(dataDir);
    const firstLink = (await readRuntime(dataDir)).uiUrl;
    await first.taskdock.stop();
    assert.equal(
      (await readFile(path.join(dataDir, 'backend-port'), 'utf8')).trim(),
      String(portOf(first.runtime)),
    );

    const second = await run(dataDir);
    assert.equal(portOf(second.runtime), portOf(first.runtime));
    const written = await readRuntime(dataDir);
    assert.equal(written.apiUrl, first.runtime.apiUrl);
    assert.notEqual(written.uiUrl, firstLink, 'each start writes a new one-time link');
    assert.equal((await api(written, '/api/health/ready')).status, 200);
    await second.taskdock.stop();
  });

  test('a port taken by another program meanwhile: another port, and the log says why', async () => {
    const dataDir = await resources.dataDir();
    const first = await run(dataDir);
    const lastPort = portOf(first.runtime);
    await first.taskdock.stop();

    const squatter = net.createServer();
    squatter.listen(lastPort, '127.0.0.1');
    await once(squatter, 'listening');
    try {
      const second = await run(dataDir);
      assert.notEqual(portOf(second.runtime), lastPort);
      assert.equal((await api(second.runtime, '/api/health/ready')).status, 200);
      const said = second.taskdock.logs?.tail('backend', 50).join('\n') ?? '';
      assert.match(
        said,
        new RegExp(`port ${lastPort} of the last run is taken.*using ${portOf(second.runtime)}`),
      );
      await second.taskdock.stop();
    } finally {
      squatter.close();
    }
    const third = await run(dataDir);
    assert.notEqual(portOf(third.runtime), lastPort, 'the new port is the one kept from now on');
    await third.taskdock.stop();
  });

  test('TASKDOCK_PORT wins over the kept port', async () => {
    const dataDir = await resources.dataDir();
    const first = await run(dataDir);
    await first.taskdock.stop();
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const wanted = (probe.address() as net.AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const second = await run(dataDir, { TASKDOCK_PORT: String(wanted) });
    assert.equal(portOf(second.runtime), wanted);
    await second.taskdock.stop();
  });
});
