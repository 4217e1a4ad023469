import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  describeRedis,
  type RedisConnectionSpec,
  readRedisConnection,
} from '../src/node/redis-connection.ts';

const SECRET = 's3cr3t-Pa55';

function spec(env: Record<string, string>): RedisConnectionSpec {
  const { spec, problems } = readRedisConnection(env);
  assert.deepEqual(problems, []);
  assert.ok(spec);
  return spec;
}

describe('Redis connection forms', () => {
  let dir: string;
  let caFile: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-redis-conn-'));
    caFile = path.join(dir, 'ca.pem');
    await writeFile(caFile, '-----BEGIN CERTIFICATE-----\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('none given: no spec and no problem', () => {
    assert.deepEqual(readRedisConnection({}), { spec: undefined, problems: [] });
  });

  test('redis:// with an ACL user, a password and a database', () => {
    const s = spec({
      TASKDOCK_REDIS_URL: `redis://app:${encodeURIComponent(SECRET)}@db.lan:6380/2`,
    });
    assert.deepEqual(s, {
      form: 'url',
      address: { host: 'db.lan', port: 6380 },
      db: 2,
      auth: { username: 'app', password: SECRET },
      tls: undefined,
    });
    assert.equal(describeRedis(s), 'redis://db.lan:6380/2 as app (password set)');
  });

  test('rediss:// is TLS, with a CA file', () => {
    const s = spec({
      TASKDOCK_REDIS_URL: `rediss://:${SECRET}@cache.example.com`,
      TASKDOCK_REDIS_CA_FILE: caFile,
    });
    assert.equal(s.form, 'url');
    assert.deepEqual(s.tls, { caFile });
    assert.equal(
      describeRedis(s),
      `rediss://cache.example.com:6379/0 as default (password set), TLS (CA ${caFile})`,
    );
  });

  test('Sentinel: addresses, master name, data-node and sentinel auth', () => {
    const s = spec({
      TASKDOCK_REDIS_SENTINELS: 's1:26379, s2:26380,s3',
      TASKDOCK_REDIS_SENTINEL_NAME: 'taskdock',
      TASKDOCK_REDIS_USERNAME: 'app',
      TASKDOCK_REDIS_PASSWORD: SECRET,
      TASKDOCK_REDIS_SENTINEL_PASSWORD: `${SECRET}-sentinel`,
    });
    assert.equal(s.form, 'sentinel');
    if (s.form !== 'sentinel') return;
    assert.deepEqual(s.sentinels, [
      { host: 's1', port: 26379 },
      { host: 's2', port: 26380 },
      { host: 's3', port: 26379 },
    ]);
    assert.equal(s.name, 'taskdock');
    assert.deepEqual(s.auth, { username: 'app', password: SECRET });
    assert.deepEqual(s.sentinelAuth, { username: undefined, password: `${SECRET}-sentinel` });
    assert.equal(
      describeRedis(s),
      'Sentinel master "taskdock" via s1:26379, s2:26380, s3:26379 as app (password set)',
    );
  });

  test('Cluster seed nodes, with TLS', () => {
    const s = spec({
      TASKDOCK_REDIS_CLUSTER: '10.0.0.1:7000,10.0.0.2:7000,[::1]:7002',
      TASKDOCK_REDIS_PASSWORD: SECRET,
      TASKDOCK_REDIS_TLS: '1',
    });
    assert.equal(s.form, 'cluster');
    assert.equal(
      describeRedis(s),
      'Cluster via 10.0.0.1:7000, 10.0.0.2:7000, [::1]:7002 as default (password set), TLS',
    );
  });

  test('every bad variable is reported at once, and no secret is quoted', () => {
    const { spec, problems } = readRedisConnection({
      TASKDOCK_REDIS_URL: `http://u:${SECRET}@h:1`,
      TASKDOCK_REDIS_SENTINELS: 's1:99999,bad@x',
      TASKDOCK_REDIS_SENTINEL_NAME: 'bad name',
      TASKDOCK_REDIS_TLS: 'yes',
      TASKDOCK_REDIS_CA_FILE: 'relative/ca.pem',
    });
    assert.equal(spec, undefined);
    const text = problems.join('\n');
    assert.match(text, /TASKDOCK_REDIS_URL and TASKDOCK_REDIS_SENTINELS are set: choose one/);
    assert.match(text, /TASKDOCK_REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL, got a http:/);
    assert.match(text, /TASKDOCK_REDIS_SENTINELS must list host:port pairs .* got "s1:99999"/);
    assert.match(text, /TASKDOCK_REDIS_SENTINEL_NAME must be a master name/);
    assert.match(text, /TASKDOCK_REDIS_TLS must be 1 or 0/);
    assert.match(text, /TASKDOCK_REDIS_CA_FILE must be an absolute path/);
    assert.match(text, /got "bad@x"/);
    assert.match(text, /TASKDOCK_REDIS_CA_FILE needs TASKDOCK_REDIS_TLS=1/);
    assert.equal(problems.length, 8, text);
    assert.doesNotMatch(text, new RegExp(SECRET));
  });

  test('variables of another form, a missing name or an unreadable CA are refused', () => {
    const { problems } = readRedisConnection({
      TASKDOCK_REDIS_URL: 'redis://h:1/99',
      TASKDOCK_REDIS_PASSWORD: SECRET,
      TASKDOCK_REDIS_SENTINEL_NAME: 'm',
      TASKDOCK_REDIS_CA_FILE: path.join(os.tmpdir(), 'no-such-ca.pem'),
    });
    const text = problems.join('\n');
    assert.match(text, /TASKDOCK_REDIS_PASSWORD is only read with TASKDOCK_REDIS_SENTINELS or/);
    assert.match(text, /TASKDOCK_REDIS_SENTINEL_NAME is only read with TASKDOCK_REDIS_SENTINELS/);
    assert.match(text, /database after the host must be a number from 0 to 15/);
    assert.match(text, /TASKDOCK_REDIS_CA_FILE needs a rediss:\/\/ TASKDOCK_REDIS_URL/);
    assert.match(text, /TASKDOCK_REDIS_CA_FILE .* cannot be read: ENOENT/);
    assert.doesNotMatch(text, new RegExp(SECRET));
    const sentinel = readRedisConnection({ TASKDOCK_REDIS_SENTINELS: 'h:26379' }).problems;
    assert.deepEqual(sentinel, [
      'TASKDOCK_REDIS_SENTINEL_NAME is required with TASKDOCK_REDIS_SENTINELS',
    ]);
  });

  test('describe never shows a password, in any form', () => {
    const forms: Record<string, string>[] = [
      { TASKDOCK_REDIS_URL: `redis://:${SECRET}@h:1` },
      { TASKDOCK_REDIS_URL: `rediss://user:${SECRET}@h:1` },
      {
        TASKDOCK_REDIS_SENTINELS: 'h:1',
        TASKDOCK_REDIS_SENTINEL_NAME: 'm',
        TASKDOCK_REDIS_PASSWORD: SECRET,
        TASKDOCK_REDIS_SENTINEL_PASSWORD: SECRET,
      },
      { TASKDOCK_REDIS_CLUSTER: 'h:1', TASKDOCK_REDIS_PASSWORD: SECRET },
    ];
    for (const env of forms) {
      const line = describeRedis(spec(env));
      assert.doesNotMatch(line, new RegExp(SECRET), line);
      assert.match(line, /password set/);
    }
  });
});
