import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '@taskdock/shared/node/settings';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createMetrics } from '../../src/metrics.ts';
import { startStack, TEST_TOKEN, type TestStack } from '../helpers/stack.ts';

const BASE_ENV = { TASKDOCK_REDIS_URL: 'redis://127.0.0.1:1', TASKDOCK_DATA_DIR: '/tmp' };

function configProblems(env: Record<string, string>): string {
  try {
    loadConfig({ ...BASE_ENV, ...env });
    return '';
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
}

describe('serving beyond loopback', () => {
  test('off by default; a plaintext non-loopback bind needs the opt-in and host names', () => {
    const plain = loadConfig(BASE_ENV).serving;
    assert.equal(plain.host, '127.0.0.1');
    assert.equal(plain.plaintextRemote, false);
    const refused = configProblems({ TASKDOCK_HOST: '0.0.0.0' });
    assert.match(refused, /TASKDOCK_ALLOW_PLAINTEXT=1/);
    assert.match(refused, /TASKDOCK_PUBLIC_URL or TASKDOCK_ALLOWED_HOSTS/);
    assert.match(configProblems({ TASKDOCK_TLS_CERT: '/x.pem' }), /go together/);
    assert.match(configProblems({ TASKDOCK_ALLOWED_HOSTS: 'bad host' }), /TASKDOCK_ALLOWED_HOSTS/);
    const open = loadConfig({
      ...BASE_ENV,
      TASKDOCK_HOST: '0.0.0.0',
      TASKDOCK_ALLOW_PLAINTEXT: '1',
      TASKDOCK_PUBLIC_URL: 'http://Farm.example:8080/ignored',
      TASKDOCK_ALLOWED_HOSTS: '10.0.0.5,render-1',
    }).serving;
    assert.equal(open.plaintextRemote, true);
    assert.equal(open.publicUrl, 'http://farm.example:8080');
    assert.deepEqual(open.allowedHosts, ['farm.example', '10.0.0.5', 'render-1']);
  });

  describe('with TLS and allowed host names', () => {
    let stack: TestStack;
    let app: FastifyInstance;
    let dir: string;
    let cert: Buffer;
    let port: number;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-tls-'));
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=farm.example',
          '-addext',
          'subjectAltName=DNS:farm.example,IP:127.0.0.1',
          '-keyout',
          path.join(dir, 'key.pem'),
          '-out',
          path.join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      cert = await readFile(path.join(dir, 'cert.pem'));
      stack = await startStack({ worker: false });
      app = await buildApp({
        token: TEST_TOKEN,
        engine: stack.engine,
        redis: stack.client,
        metrics: createMetrics(stack.engine),
        allowedHosts: ['farm.example'],
        https: { cert, key: await readFile(path.join(dir, 'key.pem')) },
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      port = (app.server.address() as AddressInfo).port;
    });
    after(async () => {
      await app.close();
      await stack.close();
      await rm(dir, { recursive: true, force: true });
    });

    const get = (url: string, host: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
        (resolve, reject) => {
          const req = https.request(
            {
              host: '127.0.0.1',
              port,
              path: url,
              ca: cert,
              servername: 'farm.example',
              headers: { host, ...headers },
            },
            (res) => {
              let body = '';
              res.on('data', (c) => (body += c));
              res.on('end', () =>
                resolve({ status: res.statusCode ?? 0, headers: res.headers, body }),
              );
            },
          );
          req.on('error', reject);
          req.end();
        },
      );

    test('https answers the configured name and loopback, refuses other Hosts', async () => {
      const auth = { authorization: `Bearer ${TEST_TOKEN}` };
      assert.equal((await get('/api/stats', `farm.example:${port}`, auth)).status, 200);
      assert.equal((await get('/api/stats', `127.0.0.1:${port}`, auth)).status, 200);
      const evil = await get('/api/stats', 'evil.example', auth);
      assert.equal(evil.status, 403);
      assert.match(evil.body, /FORBIDDEN_HOST/);
    });

    test('sign-in stays a loopback link, and its cookie is Secure over TLS', async () => {
      const link = () => {
        const nonce = randomBytes(16).toString('base64url');
        const sig = createHmac('sha256', TEST_TOKEN)
          .update(`taskdock-login:${nonce}`)
          .digest('base64url');
        return `/?login=${nonce}.${sig}`;
      };
      const remote = await get(link(), `farm.example:${port}`);
      assert.equal(remote.headers['set-cookie'], undefined, 'no session from a non-loopback name');
      const local = await get(link(), `127.0.0.1:${port}`);
      const cookie = [local.headers['set-cookie'] ?? []].flat().join('\n');
      assert.match(cookie, /taskdock_session_/);
      assert.match(cookie, /; Secure/);
    });
  });
});
