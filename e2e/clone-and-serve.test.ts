// A new user's first minutes: a fresh clone of this repository, `npm install`, then
// `npm run serve` on a machine without redis-server (it builds the UI while the API runs), the
// printed link in Chromium.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isAlive } from '@taskdock/shared/node/processes';
import { launchBrowser } from './browser.ts';
import { runnerPid } from './stack.ts';

/** The repository this file lives in: a clone has its committed files only. */
const SOURCE_ROOT = fileURLToPath(new URL('..', import.meta.url));
const work = await mkdtemp(path.join(os.tmpdir(), 'taskdock-clone-'));
const clone = path.join(work, 'taskdock');
const dataDir = path.join(work, 'data');
const running = new Set<ChildProcess>();

after(async () => {
  for (const child of running) await stopServe(child);
  await rm(work, { recursive: true, force: true });
});

/** Which program a name resolves to on our PATH (node, npm, sh, redis-server). */
async function which(name: string): Promise<string> {
  const { stdout } = await run('sh', ['-c', `command -v ${name}`], process.cwd());
  return stdout.trim();
}

async function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ stdout: string }> {
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.homedir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let output = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, `${command} ${args.join(' ')} failed:\n${output.slice(-4000)}`);
  return { stdout };
}

/** A bin dir with just what `npm run serve` needs: node, npm, sh, and redis-server if asked. */
async function binDir(name: string, programs: string[]): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir);
  for (const program of programs) await symlink(await which(program), path.join(dir, program));
  return dir;
}

interface Served {
  readonly child: ChildProcess;
  readonly apiUrl: string;
  readonly signInUrl: string;
  readonly output: () => string;
}

async function serve(pathEnv: string): Promise<Served> {
  const child = spawn('npm', ['run', '--silent', 'serve'], {
    cwd: clone,
    env: { PATH: pathEnv, HOME: process.env.HOME ?? os.homedir(), TASKDOCK_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    const signIn = /^\s+Sign in\s+(\S+)$/m.exec(output)?.[1];
    const api = /^\s+API\s+(\S+)$/m.exec(output)?.[1];
    if (signIn && api) return { child, apiUrl: api, signInUrl: signIn, output: () => output };
    if (child.exitCode !== null) assert.fail(`npm run serve exited:\n${output}`);
    if (Date.now() > deadline) assert.fail(`npm run serve printed no sign-in link:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** SIGTERM to the runner (npm does not pass it on), then wait for npm and the runner to end. */
async function stopServe(child: ChildProcess): Promise<void> {
  running.delete(child);
  const npmPid = child.pid;
  if (!npmPid || child.exitCode !== null || child.signalCode !== null) return;
  const runner = runnerPid(npmPid);
  if (runner) process.kill(runner, 'SIGTERM');
  else child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (isAlive(npmPid)) process.kill(-npmPid, 'SIGKILL');
  }, 30_000);
  await once(child, 'exit').catch(() => {});
  clearTimeout(timer);
  const deadline = Date.now() + 30_000;
  while (runner && isAlive(runner) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The first `next build` on 2 busy cores: a minute or two; bounded so a hang fails. */
const UI_BUILD_WAIT_MS = 6 * 60_000;

/**
 * Opens the printed link; resolves once the dashboard shows and the store check has answered.
 * `whileBuilding`: the UI is being built, so the page says so first and reloads itself.
 */
async function openDashboard(signInUrl: string, whileBuilding = false) {
  const browser = await launchBrowser();
  const page = await browser.context.newPage();
  const wait = whileBuilding ? UI_BUILD_WAIT_MS : 30_000;
  const readiness = page.waitForResponse((r) => r.url().endsWith('/api/health/ready'), {
    timeout: wait,
  });
  await page.goto(signInUrl);
  if (whileBuilding) {
    await page.getByRole('heading', { name: 'The Taskdock UI is being built' }).waitFor();
    assert.match(await page.content(), /reloads by itself/);
  }
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor({ timeout: wait });
  await readiness;
  return { page, close: () => browser.close() };
}

async function waitForOutput(served: Served, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(served.output())) {
    if (Date.now() > deadline)
      assert.fail(`npm run serve never printed ${pattern}:\n${served.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a fresh clone: install, serve without redis-server builds the UI and shows the memory banner; with it, none; the port is kept', {
  timeout: 20 * 60_000,
}, async () => {
  await run('git', ['clone', '--quiet', '--no-hardlinks', SOURCE_ROOT, clone], work);
  // No Electron download: serve needs none (offline machines, CI).
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], clone, {
    ELECTRON_SKIP_BINARY_DOWNLOAD: '1',
  });
  // No `npm run build:frontend`: the first start builds the UI.

  const withoutRedis = await binDir('bin-no-redis', ['node', 'npm', 'sh']);
  const first = await serve(withoutRedis);
  assert.match(first.output(), /MEMORY MODE: tasks live in memory and vanish/);
  assert.match(first.output(), /Why: no redis-server was found/);
  assert.match(first.output(), /UI {7}building: first start of this checkout/, 'a progress line');
  const memory = await openDashboard(first.signInUrl, true);
  await waitForOutput(first, /UI {7}built in \d+\.\d s/, 10_000);
  const banner = memory.page.locator('.memory-mode-banner');
  await banner.waitFor();
  const text = await banner.innerText();
  assert.match(text, /Memory mode: tasks vanish when Taskdock stops/);
  assert.match(text, /no redis-server was found/);
  assert.match(text, /install redis-server/);
  await memory.close();
  await stopServe(first.child);

  const second = await serve(withoutRedis);
  assert.equal(second.apiUrl, first.apiUrl, 'a restart keeps the port');
  assert.doesNotMatch(second.output(), /UI {7}build/, 'the UI is built once');
  await stopServe(second.child);

  const withRedis = await binDir('bin-redis', ['node', 'npm', 'sh', 'redis-server']);
  const third = await serve(withRedis);
  assert.equal(third.apiUrl, first.apiUrl, 'the port is kept across store modes too');
  assert.doesNotMatch(third.output(), /MEMORY MODE/);
  const durable = await openDashboard(third.signInUrl);
  // The banner would show right after the store check answered: give React a moment.
  await durable.page.waitForTimeout(500);
  assert.equal(await durable.page.locator('.memory-mode-banner').count(), 0, 'no banner');
  await durable.close();
  await stopServe(third.child);
});
