// ENTRY (Node): `npm run serve`, and `<resources>/bundles/headless.mjs` in a package (run by
// Electron as Node; `npm run smoke:package` runs it with plain node). The same supervisor as the
// desktop app, in a terminal: prints each startup step with its time, then the sign-in link;
// SIGINT/SIGTERM stop it all. TASKDOCK_ROLE (docs/scale-out.md "Roles") picks what this host
// runs: everything, only worker processes (no sign-in link: there is no UI), or only the API.
import { DURABLE_MODE_HINT, type StoreInfo } from '@taskdock/shared/contract';
import { ConfigError } from '@taskdock/shared/node/settings';
import { startUiBuild, type UiBuild, uiBuildNeeded } from '@taskdock/shared/node/ui-build';
import { loadDesktopConfig } from './config.ts';
import { currentRunner, detectLayout } from './paths.ts';
import { StartupError, type SupervisorEvent, serviceLabel } from './supervisor/supervisor.ts';
import { createTaskdock } from './taskdock.ts';

let config: ReturnType<typeof loadDesktopConfig>;
try {
  config = loadDesktopConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(78);
}

// The TypeScript sources (npm run serve), `tsc -b` output, or a package's bundles.
const layout = detectLayout(import.meta.url);
const taskdock = createTaskdock({
  config,
  layout,
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

let uiBuild: UiBuild | undefined;

/**
 * A fresh checkout has no UI yet: build it beside the start, which does not wait for it (the
 * page says "being built" and reloads itself). One line when it starts, one when it ends.
 */
async function buildUiIfMissing(): Promise<void> {
  const plan = uiBuildNeeded({
    checkoutRoot: layout.kind === 'packaged' ? undefined : layout.repoRoot,
    configuredUiDir: config.serviceSettings.TASKDOCK_UI_DIR,
  });
  if (!plan) return;
  try {
    uiBuild = await startUiBuild(plan, { execPath: process.execPath, env: process.env });
  } catch (err) {
    // A read-only checkout, say: the API still starts, and its pages say the UI is not built.
    console.error(`${stamp()} UI       build FAILED to start: ${(err as Error).message}`);
    return;
  }
  if (uiBuild.pid) {
    say(
      `UI       building: first start of this checkout, about a minute (pid ${uiBuild.pid}, output in ${plan.log})`,
    );
  }
  void uiBuild.done.then((result) => {
    if (result.outcome === 'built') {
      say(
        `UI       built in ${(result.durationMs / 1000).toFixed(1)} s: the sign-in page shows it now`,
      );
    } else if (result.outcome === 'elsewhere') {
      say(`UI       being built by another start of this checkout (pid ${result.pid})`);
    } else if (!exiting) {
      console.error(
        `${stamp()} UI       build FAILED: ${result.message}\n` +
          `           The API runs; its pages say so. Output: ${plan.log}; retry: npm run build:frontend`,
      );
    }
  });
}

let exiting = false;
function shutdown(signal: string) {
  if (exiting) return;
  exiting = true;
  say(`${signal}: stopping`);
  void Promise.all([uiBuild?.stop(), taskdock.stop()]).then(
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
  if (config.role !== 'worker') await buildUiIfMissing();
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
    await uiBuild?.stop();
    process.exit(1);
  }
}
