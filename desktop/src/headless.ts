// ENTRY (Node): `npm run serve`, and `<resources>/bundles/headless.mjs` in a package (run by
// Electron as Node; `npm run smoke:package` runs it with plain node). The same supervisor as the
// desktop app, in a terminal: prints each startup step with its time, then the sign-in link;
// SIGINT/SIGTERM stop it all. TASKDOCK_ROLE (docs/scale-out.md "Roles") picks what this host
// runs: everything, only worker processes (no sign-in link: there is no UI), or only the API.
import { DURABLE_MODE_HINT, type StoreInfo } from '@taskdock/shared/contract';
import { DesktopConfigError, loadDesktopConfig } from './config.ts';
import { currentRunner, detectLayout } from './paths.ts';
import { StartupError, type SupervisorEvent, serviceLabel } from './supervisor/supervisor.ts';
import { createTaskdock } from './taskdock.ts';

let config: ReturnType<typeof loadDesktopConfig>;
try {
  config = loadDesktopConfig(process.env);
} catch (err) {
  if (!(err instanceof DesktopConfigError)) throw err;
  console.error(err.message);
  process.exit(78);
}

const taskdock = createTaskdock({
  config,
  // The TypeScript sources (npm run serve), `tsc -b` output, or a package's bundles.
  layout: detectLayout(import.meta.url),
  // Plain node (npm run serve), or the app's Electron binary as Node running the packaged bundle.
  runner: currentRunner(process.execPath, process.versions),
  supervisorPid: process.pid,
});

const began = Date.now();
const stamp = () => `[${((Date.now() - began) / 1000).toFixed(2).padStart(6)}s]`;
const say = (text: string) => process.stdout.write(`${stamp()} ${text}\n`);

function describe(event: SupervisorEvent): string {
  const name = serviceLabel({ name: event.service, instance: event.instance }).padEnd(8);
  switch (event.type) {
    case 'starting':
      return `${name} starting${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`;
    case 'ready':
      return `${name} ready in ${event.durationMs} ms (pid ${event.pid}${event.detail ? `, ${event.detail}` : ''})`;
    case 'restarting':
      return `${name} ${event.reason}; restart ${event.restarts} in ${event.delayMs} ms`;
    case 'failed':
      return `${name} FAILED: ${event.reason}`;
    case 'stopped':
      return `${name} stopped in ${event.durationMs} ms${event.forced ? ' (killed after the grace period)' : ''}`;
  }
}
taskdock.onEvent((event) => say(describe(event)));

/** Memory mode is said where the link is: tasks vanish on exit, why, and how to keep them. */
function storeLines(store: StoreInfo): string[] {
  if (store.mode === 'redis') return [`  Storage   Redis (${store.reason})`];
  return [
    '',
    '  Storage   MEMORY MODE: tasks live in memory and vanish when Taskdock stops.',
    `            Why: ${store.reason}.`,
    `            Durable mode: ${DURABLE_MODE_HINT}.`,
  ];
}

let exiting = false;
function shutdown(signal: string) {
  if (exiting) return;
  exiting = true;
  say(`${signal}: stopping`);
  void taskdock.stop().then(
    () => {
      say('stopped');
      process.exit(0);
    },
    (err: Error) => {
      console.error(`stop failed: ${err.message}`);
      process.exit(1);
    },
  );
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGHUP', () => shutdown('SIGHUP'));

const readyIn = () => `${((Date.now() - began) / 1000).toFixed(1)} s`;

/** `all` and `api`: the API's address and the sign-in link, as a user needs them. */
async function startWithApi(): Promise<void> {
  const runtime = await taskdock.start();
  say(`Taskdock is ready in ${readyIn()}`);
  process.stdout.write(
    [
      '',
      `  API       ${runtime.apiUrl}`,
      `  Sign in   ${runtime.uiUrl}`,
      `  Logs      ${taskdock.paths.logs}`,
      `  Runtime   ${taskdock.paths.runtime}`,
      ...storeLines(runtime.store),
      '',
      'Open the sign-in link in a browser (it works once). Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

/** `worker`: no API and no UI here, so no link; the workers and where their logs are. */
async function startWorkers(): Promise<void> {
  const host = await taskdock.startWorkers();
  say(`Taskdock workers are ready in ${readyIn()}`);
  process.stdout.write(
    [
      '',
      `  Workers   ${host.workerPids.length} (pids ${host.workerPids.join(', ')})`,
      `  Logs      ${taskdock.paths.logs}`,
      ...storeLines(host.store),
      '',
      'This host only runs tasks: sign in on a host that runs the API. Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

say(`Taskdock starting (role ${config.role}); data dir ${config.dataDir}`);
try {
  await (config.role === 'worker' ? startWorkers() : startWithApi());
} catch (err) {
  if (exiting) {
    // A signal arrived during startup: shutdown() finishes and exits.
  } else {
    const failure = err instanceof StartupError ? err : new StartupError('supervisor', String(err));
    console.error(`\nTaskdock could not start: ${failure.message}`);
    if (failure.lastLines.length > 0) {
      console.error(`\nLast output of ${failure.service}:\n  ${failure.lastLines.join('\n  ')}`);
    }
    console.error(`\nLogs: ${taskdock.paths.logs}`);
    process.exit(1);
  }
}
