import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { RemoteServingStatus, ServiceList } from '@taskdock/shared/contract';
import { servingEnv } from '@taskdock/shared/node/remote-serving';
import type { RuntimeInfo } from '@taskdock/shared/node/runtime-file';
import type { Taskdock } from '../src/taskdock.ts';
import { killPids, trackResources } from './helpers/process.ts';
import { testTaskdock } from './helpers/stack.ts';

// TLS under the supervisor (its health gate and the sign-in link speak https), and the desktop's
// remote workers setting: saved through the API, applied by the supervisor restarting the backend.

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** A self-signed certificate for 127.0.0.1, made with openssl in `dir`. */
function selfSigned(dir: string) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'],
      ...['-keyout', key, '-out', cert, '-subj', '/CN=taskdock-test'],
      ...['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

/** An https request that trusts only `ca` (and checks it names 127.0.0.1, as a browser would). */
function request(
  url: string,
  ca: string,
  init: { method?: string; token?: string; body?: unknown } = {},
): Promise<{
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: init.method ?? 'GET',
        ca,
        headers: {
          ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        signal: AbortSignal.timeout(10_000),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(init.body === undefined ? undefined : JSON.stringify(init.body));
  });
}

describe('the desktop supervisor with TLS and the remote workers setting', () => {
  const resources = trackResources();
  let taskdock: Taskdock | undefined;
  after(async () => {
    const pids = Object.values(taskdock?.runtime()?.pids ?? {});
    await taskdock?.stop();
    await killPids(pids);
  });

  test('TASKDOCK_TLS_CERT/KEY: healthy over https, https sign-in link, Secure cookie', {
    skip: !hasOpenssl && 'openssl is not installed',
  }, async () => {
    const dataDir = await resources.dataDir();
    const files = selfSigned(dataDir);
    const ca = readFileSync(files.cert, 'utf8');
    taskdock = testTaskdock(dataDir, {
      env: { TASKDOCK_TLS_CERT: files.cert, TASKDOCK_TLS_KEY: files.key },
    });
    const runtime: RuntimeInfo = await taskdock.start();
    for (const pid of Object.values(runtime.pids)) resources.pids.add(pid);
    assert.match(runtime.apiUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(runtime.uiUrl, /^https:\/\/127\.0\.0\.1:\d+\//);

    const signIn = await request(taskdock.signInUrl(), ca);
    assert.ok([302, 303].includes(signIn.status), `sign-in: ${signIn.status} ${signIn.body}`);
    const cookie = String(signIn.headers['set-cookie']);
    assert.match(cookie, /;\s*Secure/i, cookie);

    const status = await request(`${runtime.apiUrl}/api/remote-serving`, ca, {
      token: runtime.token,
    });
    assert.equal(status.status, 200, status.body);
    const before = JSON.parse(status.body) as RemoteServingStatus;
    assert.equal(before.tls, true);
    assert.equal(before.active, false);
    assert.equal(before.supervised, true);

    // Turned on through the API (as the Settings page does): with TLS no opt-in is needed.
    const backendPid = runtime.pids.backend;
    const saved = await request(`${runtime.apiUrl}/api/remote-serving`, ca, {
      method: 'PUT',
      token: runtime.token,
      body: { enabled: true, allowPlaintext: false },
    });
    assert.equal(saved.status, 200, saved.body);
    assert.equal((JSON.parse(saved.body) as RemoteServingStatus).restarting, true);

    let now: RemoteServingStatus | undefined;
    const deadline = Date.now() + 30_000;
    while (!now?.active && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      const res = await request(`${runtime.apiUrl}/api/remote-serving`, ca, {
        token: runtime.token,
      }).catch(() => undefined);
      if (res?.status === 200) now = JSON.parse(res.body) as RemoteServingStatus;
    }
    assert.equal(now?.active, true, 'bound beyond loopback after the restart');
    assert.equal(now?.source, 'setting');
    assert.equal(now?.plaintext, false);
    assert.equal(now?.url, `https://${os.hostname()}:${new URL(runtime.apiUrl).port}`);
    // The new backend answers before the supervisor's health gate marks it running.
    let backend: ServiceList['services'][number] | undefined;
    while (backend?.status !== 'running' && Date.now() < deadline) {
      const list = await request(`${runtime.apiUrl}/api/services`, ca, { token: runtime.token });
      backend = (JSON.parse(list.body) as ServiceList).services.find((s) => s.name === 'backend');
      if (backend?.status !== 'running') await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(backend?.status, 'running');
    assert.equal(backend?.restarts, 1, 'one restart, on request');
    assert.notEqual(backend?.pid, backendPid, 'a new backend process');
    resources.pids.add(backend?.pid);
  });

  test('TASKDOCK_HOST in the environment wins over the setting', () => {
    const on = { enabled: true, allowPlaintext: true };
    assert.deepEqual(servingEnv({ TASKDOCK_HOST: '127.0.0.1' }, on, 'vm'), {
      TASKDOCK_HOST: '127.0.0.1',
      TASKDOCK_SERVING_SOURCE: 'env',
    });
    assert.deepEqual(servingEnv({}, on, 'VM'), {
      TASKDOCK_HOST: '0.0.0.0',
      TASKDOCK_ALLOWED_HOSTS: 'vm',
      TASKDOCK_ALLOW_PLAINTEXT: '1',
      TASKDOCK_SERVING_SOURCE: 'setting',
    });
    assert.deepEqual(servingEnv({}, { enabled: false, allowPlaintext: true }, 'vm'), {
      TASKDOCK_SERVING_SOURCE: 'default',
    });
  });
});
