// Checks of an unpacked package's resources (release/<os>-unpacked/resources), shared by
// `npm run smoke:package` (scripts/smoke-package.ts) and the dist:dir layout test:
//   checkBundledRedis  one redis-server for this platform, the locked sha256, runs --version,
//                      links nothing but the C library
//   smokePackage       the packaged supervisor (bundles/headless.mjs) starts redis, worker and
//                      backend from the resources, runs one task through the API, stops, and
//                      leaves nothing running
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { sha256File } from './fetch-verified.ts';
import type { RedisLock } from './redis-manifest.ts';

export class PackageCheckError extends Error {
  override name = 'PackageCheckError';
}

function fail(message: string): never {
  throw new PackageCheckError(message);
}

/**
 * The resources folder of the unpacked app in `release/`: `*-unpacked/resources` (Linux,
 * Windows) or `mac*\/Taskdock.app/Contents/Resources`. Several (e.g. x64 and arm64): the one for
 * this arch, else an error asking for --resources.
 */
export function findUnpackedResources(releaseDir: string, arch = process.arch): string {
  const found: string[] = [];
  const entries = existsSync(releaseDir) ? readdirSync(releaseDir) : [];
  for (const entry of entries) {
    const dir = path.join(releaseDir, entry);
    if (entry.endsWith('-unpacked') && existsSync(path.join(dir, 'resources'))) {
      found.push(path.join(dir, 'resources'));
    } else if (/^mac(-|$)/.test(entry) && statSync(dir).isDirectory()) {
      for (const app of readdirSync(dir).filter((f) => f.endsWith('.app'))) {
        const res = path.join(dir, app, 'Contents', 'Resources');
        if (existsSync(res)) found.push(res);
      }
    }
  }
  if (found.length === 1) return found[0] as string;
  if (found.length === 0) {
    return fail(`no unpacked app in ${releaseDir}: run npm run dist:dir first (or --resources)`);
  }
  const forArch = found.filter((res) =>
    arch === 'x64'
      ? !/(arm64|ia32|armv7l)/.test(path.relative(releaseDir, res))
      : path.relative(releaseDir, res).includes(arch),
  );
  if (forArch.length === 1) return forArch[0] as string;
  return fail(
    `several unpacked apps in ${releaseDir}, pass one with --resources:\n  ${found.join('\n  ')}`,
  );
}

// ---------------------------------------------------------------------------------------------
// The bundled redis-server

const EXE = process.platform === 'win32' ? 'redis-server.exe' : 'redis-server';

/** Every file named redis-server* (not the .json lock/manifest) anywhere under a folder. */
function redisServersUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /^redis-server(\.exe)?$/.test(path.basename(f)))
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/** What the executable's header says it is built for, e.g. `linux-x64`, or undefined. */
export function binaryTarget(header: Buffer): string | undefined {
  if (header.length >= 20 && header.readUInt32BE(0) === 0x7f454c46) {
    const machine = header.readUInt16LE(18);
    // e_machine: EM_X86_64 = 0x3e, EM_AARCH64 = 0xb7.
    const arch = machine === 0x3e ? 'x64' : machine === 0xb7 ? 'arm64' : undefined;
    return arch ? `linux-${arch}` : `linux-machine-0x${machine.toString(16)}`;
  }
  if (header.length >= 8 && header.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = header.readUInt32LE(4);
    return cpu === 0x01000007 ? 'darwin-x64' : cpu === 0x0100000c ? 'darwin-arm64' : undefined;
  }
  if (header.length >= 2 && header.toString('latin1', 0, 2) === 'MZ') return 'win32-x64';
  return undefined;
}

/** `ldd` lines of libraries that are not part of the C library (libc, libm, ld-linux, vdso). */
export function nonLibcLinkage(lddOutput: string): string[] {
  const allowed = [
    /^linux-(vdso|gate)\.so\.\d+$/,
    /^libc\.so\.\d+$/,
    /^libm\.so\.\d+$/,
    /^ld-linux[\w.-]*\.so\.\d+$/,
  ];
  return lddOutput
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .filter((line) => {
      const name = path.basename(line.split(/\s+/)[0] ?? '');
      return !allowed.some((re) => re.test(name));
    });
}

function execText(file: string, args: string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err)
        reject(new Error(`${path.basename(file)} ${args.join(' ')}: ${err.message}${stderr}`));
      else resolve(stdout);
    });
  });
}

export interface RedisCheck {
  readonly binary: string;
  readonly sha256: string;
  readonly version: string;
  readonly linkage: readonly string[];
}

/**
 * `<resources>/redis/` holds exactly one redis-server, built for this platform and arch, whose
 * sha256 is the one in its shipped lock file and in `recordedLockFile` (the lock
 * prepare:resources wrote in resources-source/, when given), that runs `--version` and, on Linux,
 * links only the C library.
 */
export async function checkBundledRedis(
  resources: string,
  recordedLockFile?: string,
): Promise<RedisCheck> {
  const redisDir = path.join(resources, 'redis');
  const binary = path.join(redisDir, EXE);
  const all = redisServersUnder(resources);
  if (all.length === 0) {
    fail(
      `${resources} holds no redis-server: not a finished dist:dir. Run npm run dist:dir first ` +
        '(it builds the bundled redis-server and the app), then npm run smoke:package',
    );
  }
  if (all.length !== 1 || all[0] !== binary) {
    fail(`expected exactly ${binary}, found ${all.length}: ${all.join(', ') || 'none'}`);
  }
  const handle = await open(binary, 'r');
  const header = Buffer.alloc(64);
  await handle.read(header, 0, 64, 0).finally(() => handle.close());
  const host = `${process.platform}-${process.arch}`;
  const built = binaryTarget(header);
  if (built !== host) fail(`${binary} is built for ${built ?? 'an unknown platform'}, not ${host}`);

  const shippedLock = path.join(redisDir, 'redis-server.lock.json');
  if (!existsSync(shippedLock)) fail(`${shippedLock} is missing`);
  const lock = JSON.parse(readFileSync(shippedLock, 'utf8')) as RedisLock;
  const sha256 = await sha256File(binary);
  if (sha256 !== lock.sha256) fail(`${binary} sha256 ${sha256} is not ${lock.sha256} (its lock)`);
  if (recordedLockFile) {
    const recorded = JSON.parse(readFileSync(recordedLockFile, 'utf8')) as RedisLock;
    if (sha256 !== recorded.sha256) {
      fail(`${binary} sha256 ${sha256} is not ${recorded.sha256} recorded in ${recordedLockFile}`);
    }
  }
  if (!existsSync(path.join(redisDir, 'COPYING'))) fail(`${redisDir}/COPYING (licence) is missing`);

  const version = (await execText(binary, ['--version'])).trim();
  if (!version.includes(`v=${lock.version} `)) {
    fail(`${binary} --version says "${version}", the lock says ${lock.version}`);
  }
  let linkage: string[] = [];
  if (process.platform === 'linux') {
    const ldd = await execText('ldd', [binary]).catch((err: Error) =>
      fail(`cannot check the linkage of ${binary}: ${err.message}`),
    );
    const extra = nonLibcLinkage(ldd);
    if (extra.length > 0) fail(`${binary} links more than the C library:\n  ${extra.join('\n  ')}`);
    linkage = ldd
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  }
  return { binary, sha256, version, linkage };
}

// ---------------------------------------------------------------------------------------------
// The packaged stack, end to end

interface RuntimeJson {
  readonly apiUrl: string;
  readonly token: string;
  readonly pids: Readonly<Record<'redis' | 'worker' | 'backend', number | null>>;
}

export interface SmokeOptions {
  /** Runs headless.mjs. Default: this Node (standing in for the app's Electron-as-Node). */
  readonly nodePath?: string;
  readonly startTimeoutMs?: number;
  readonly taskTimeoutMs?: number;
  /** The worker's default grace (10 s + 5 s) plus the backend's and redis's. */
  readonly stopTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly log?: (message: string) => void;
}

export interface SmokeResult {
  readonly apiUrl: string;
  readonly pids: RuntimeJson['pids'];
  readonly taskId: string;
  readonly startMs: number;
  readonly taskMs: number;
  readonly stopMs: number;
  readonly totalMs: number;
}

/** Whether a process runs; a zombie (exited, not yet reaped by its new parent) counts as dead. */
export function isRunning(pid: number): boolean {
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
      return state !== 'Z' && state !== 'X';
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The program and arguments a pid runs (Linux: /proc; elsewhere the supervisor's log line). */
function commandOf(pid: number, logFile: string): { exe: string; args: string[] } | undefined {
  if (process.platform === 'linux') {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      return { exe: realpathSync(`/proc/${pid}/exe`), args };
    } catch {
      return undefined;
    }
  }
  // "<time> INFO  system started pid 123: /path/redis-server /path/redis.conf"
  const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
  const line = text.split('\n').find((l) => l.includes(`started pid ${pid}: `));
  if (!line) return undefined;
  const args = line.slice(line.indexOf(`started pid ${pid}: `) + `started pid ${pid}: `.length);
  const parts = args.split(' ');
  return { exe: parts[0] ?? '', args: parts };
}

/** A child's environment from scratch: the OS variables it needs and the data dir, nothing else. */
function headlessEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { TASKDOCK_DATA_DIR: dataDir };
  for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TEMP', 'TMP', 'SystemRoot', 'PATHEXT']) {
    if (process.env[key] !== undefined) env[key] = process.env[key];
  }
  return env;
}

async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  check: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) return fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * Starts `<resources>/bundles/headless.mjs` in a fresh data dir, the way the packaged app runs
 * its supervisor, and checks that it finds everything in the resources (redis-server, the
 * worker and server bundles, the UI), that one shell task completes through the API, and that
 * after SIGTERM every process it started is gone and runtime.json removed. Throws a
 * PackageCheckError with the supervisor's last output on any failure; the data dir (with the
 * services' logs) is kept then, removed otherwise.
 */
export async function smokePackage(
  resources: string,
  options: SmokeOptions = {},
): Promise<SmokeResult> {
  const {
    nodePath = process.execPath,
    startTimeoutMs = 60_000,
    taskTimeoutMs = 30_000,
    stopTimeoutMs = 40_000,
    requestTimeoutMs = 5_000,
    log = () => {},
  } = options;
  const headless = path.join(resources, 'bundles', 'headless.mjs');
  for (const file of [
    'bundles/headless.mjs',
    'bundles/worker.mjs',
    'bundles/server.mjs',
    `redis/${EXE}`,
  ]) {
    const needed = path.join(resources, file);
    if (!existsSync(needed)) fail(`${needed} is missing (npm run dist:dir)`);
  }
  const uiIndex = path.join(resources, 'ui', 'index.html');
  const began = Date.now();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-smoke-package-'));
  const runtimeFile = path.join(dataDir, 'runtime.json');
  const output: string[] = [];
  let child: ChildProcess | undefined;
  let pids: RuntimeJson['pids'] | undefined;
  let ok = false;
  try {
    // Plain `node` stands in for the app's Electron-as-Node (`Taskdock` with
    // ELECTRON_RUN_AS_NODE=1): the Electron in release/ may be a stand-in that cannot run. The
    // supervisor in headless.mjs then finds the packaged layout by itself (detectLayout).
    const started = spawn(nodePath, [headless], {
      cwd: dataDir,
      env: headlessEnv(dataDir),
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    child = started;
    let spawnError: Error | undefined;
    started.on('error', (err) => {
      spawnError = err;
    });
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
      started.once('exit', (code, signal) => resolve([code, signal]));
    });
    for (const stream of [started.stdout, started.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        if (output.length > 200) output.shift();
      });
    }
    log(`started ${headless} (pid ${started.pid}) with ${nodePath}; data dir ${dataDir}`);

    const runtime = await waitUntil('runtime.json', startTimeoutMs, async () => {
      if (spawnError) fail(`cannot run ${nodePath}: ${spawnError.message}`);
      if (started.exitCode !== null || started.signalCode !== null) {
        fail(`the supervisor exited during startup (${started.exitCode ?? started.signalCode})`);
      }
      const text = await readFile(runtimeFile, 'utf8').catch(() => undefined);
      return text === undefined ? undefined : (JSON.parse(text) as RuntimeJson);
    });
    pids = runtime.pids;
    const startMs = Date.now() - began;
    log(`ready in ${startMs} ms: ${runtime.apiUrl}, pids ${JSON.stringify(runtime.pids)}`);

    // Each service runs from the resources, not from a fallback (PATH may have a redis-server).
    const expected = {
      redis: path.join(resources, 'redis', EXE),
      worker: path.join(resources, 'bundles', 'worker.mjs'),
      backend: path.join(resources, 'bundles', 'server.mjs'),
    };
    for (const service of ['redis', 'worker', 'backend'] as const) {
      const pid = runtime.pids[service];
      if (!pid) fail(`runtime.json has no ${service} pid`);
      const cmd = commandOf(pid, path.join(dataDir, 'logs', `${service}.log`));
      if (!cmd) fail(`cannot tell what ${service} (pid ${pid}) runs`);
      const want = realpathSync(expected[service]);
      const runs =
        service === 'redis'
          ? [existsSync(cmd.exe) ? realpathSync(cmd.exe) : cmd.exe]
          : cmd.args.map((a) => (existsSync(a) ? realpathSync(a) : a));
      if (!runs.includes(want)) {
        fail(`${service} (pid ${pid}) does not run ${want}: ${cmd.exe} (${cmd.args.join(' ')})`);
      }
    }
    log('redis-server, worker and backend run from the resources');

    const request = async (method: string, url: string, body?: unknown, auth = true) => {
      const res = await fetch(`${runtime.apiUrl}${url}`, {
        method,
        headers: {
          ...(auth ? { authorization: `Bearer ${runtime.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(requestTimeoutMs),
      }).catch((err: Error) => fail(`${method} ${url}: ${err.message}`));
      return {
        status: res.status,
        type: res.headers.get('content-type') ?? '',
        text: await res.text(),
      };
    };

    const ready = await request('GET', '/api/health/ready');
    if (ready.status !== 200) fail(`GET /api/health/ready: ${ready.status} ${ready.text}`);
    const anonymous = await request('GET', '/api/tasks', undefined, false);
    if (anonymous.status !== 401)
      fail(`GET /api/tasks without the token: ${anonymous.status}, not 401`);
    if (existsSync(uiIndex)) {
      const page = await request('GET', '/', undefined, false);
      if (page.status !== 200 || page.text !== readFileSync(uiIndex, 'utf8')) {
        fail(`GET / is not ${uiIndex}: ${page.status} ${page.type}\n${page.text.slice(0, 300)}`);
      }
      log('GET / serves the UI from resources/ui; /api/health/ready is 200');
    } else {
      log(`no ${uiIndex}: UI check skipped; /api/health/ready is 200`);
    }

    const taskBegan = Date.now();
    const created = await request('POST', '/api/tasks', {
      workflow: 'shell',
      params: { command: 'echo', args: ['smoke'] },
    });
    if (created.status !== 201) fail(`POST /api/tasks: ${created.status} ${created.text}`);
    const taskId = (JSON.parse(created.text) as { id: string }).id;
    const task = await waitUntil(`task ${taskId} to finish`, taskTimeoutMs, async () => {
      const got = await request('GET', `/api/tasks/${encodeURIComponent(taskId)}`);
      if (got.status !== 200) fail(`GET /api/tasks/${taskId}: ${got.status} ${got.text}`);
      const t = JSON.parse(got.text) as { status: string; result?: unknown; error?: unknown };
      return ['completed', 'failed', 'cancelled'].includes(t.status) ? t : undefined;
    });
    const result = task.result as { exitCode?: number; stdoutTail?: string } | undefined;
    if (
      task.status !== 'completed' ||
      result?.exitCode !== 0 ||
      result.stdoutTail?.trim() !== 'smoke'
    ) {
      fail(`task ${taskId} ended ${task.status}: ${JSON.stringify(task)}`);
    }
    const taskMs = Date.now() - taskBegan;
    log(`task ${taskId} (shell: echo smoke) completed in ${taskMs} ms with "smoke"`);

    // runtime.json is rewritten when a restart changes a pid: stop what runs now.
    pids = (JSON.parse(await readFile(runtimeFile, 'utf8')) as RuntimeJson).pids;
    const stopBegan = Date.now();
    started.kill('SIGTERM');
    const timer = setTimeout(() => started.kill('SIGKILL'), stopTimeoutMs);
    const [code, signal] = await exited.finally(() => clearTimeout(timer));
    const stopMs = Date.now() - stopBegan;
    if (code !== 0) {
      fail(
        `the supervisor exited with ${code ?? signal} after SIGTERM${signal === 'SIGKILL' ? ` (killed after ${stopTimeoutMs} ms)` : ''}`,
      );
    }
    const left = Object.entries(pids).filter(([, pid]) => pid && isRunning(pid));
    if (left.length > 0) {
      fail(
        `still running after the supervisor exited: ${left.map(([s, p]) => `${s} (pid ${p})`).join(', ')}`,
      );
    }
    if (existsSync(runtimeFile)) fail(`${runtimeFile} was not removed on exit`);
    log(`stopped in ${stopMs} ms; nothing left running; runtime.json removed`);
    ok = true;
    return {
      apiUrl: runtime.apiUrl,
      pids,
      taskId,
      startMs,
      taskMs,
      stopMs,
      totalMs: Date.now() - began,
    };
  } catch (err) {
    const tail = output.slice(-30).join('\n  ');
    const message = `${(err as Error).message}\n(data dir kept: ${dataDir})${tail ? `\nsupervisor output:\n  ${tail}` : ''}`;
    throw new PackageCheckError(message);
  } finally {
    await cleanUp(child, pids, dataDir, resources, stopTimeoutMs);
    if (ok) await rm(dataDir, { recursive: true, force: true });
  }
}

/** Whether the child has exited within `ms` (no timer is left behind either way). */
function exitWithin(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * After a failure: let the supervisor stop its services (SIGTERM, bounded), else SIGKILL it; then
 * SIGKILL, by pid, any service of this run still there (its command line names the resources or
 * this run's data dir: a pid we cannot identify may have been reused and is left alone).
 */
async function cleanUp(
  child: ChildProcess | undefined,
  pids: RuntimeJson['pids'] | undefined,
  dataDir: string,
  resources: string,
  graceMs: number,
): Promise<void> {
  if (child?.pid && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    if (!(await exitWithin(child, graceMs))) {
      child.kill('SIGKILL');
      await exitWithin(child, 5000);
    }
  }
  const candidates = new Set<number>(Object.values(pids ?? {}).filter((p): p is number => !!p));
  // A redis-server started before runtime.json was written is in its pidfile.
  const pidfile = await readFile(path.join(dataDir, 'redis', 'redis.pid'), 'utf8').catch(() => '');
  if (/^\d+$/.test(pidfile.trim())) candidates.add(Number(pidfile.trim()));
  const roots = [resources, realpathSync(resources), dataDir, realpathSync(dataDir)];
  for (const pid of candidates) {
    if (pid <= 1 || !isRunning(pid)) continue;
    const cmd = commandOf(pid, '');
    const ours = cmd && [cmd.exe, ...cmd.args].some((a) => roots.some((r) => a.startsWith(r)));
    if (ours) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
