// ENTRY (development tooling): `npm start` = `tsc -b` (the worker and backend as JS in
// backend/dist), then this: build the UI if this checkout has none, bundle the Electron main
// process and launch Electron on it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { startUiBuild, uiBuildNeeded } from '@taskdock/shared/node/ui-build';
import { build } from 'esbuild';
import { ELECTRON_NODE_TARGET } from './lib/bundles.ts';
import { electronDistProblem, electronExecutable } from './lib/electron-dist.ts';
import { ROOT } from './lib/redis-manifest.ts';

const outfile = path.join(ROOT, 'desktop', 'dist', 'electron', 'main.mjs');

/**
 * TASKDOCK_ELECTRON_DIST, else the binary the electron package downloaded. Never `require`
 * ('electron'): with no binary it starts a download, which hangs offline.
 */
function electronBinary(): { path?: string; problem?: string } {
  const local = process.env.TASKDOCK_ELECTRON_DIST;
  if (local) {
    const problem = electronDistProblem(local, { zipAllowed: false });
    return problem ? { problem } : { path: electronExecutable(path.resolve(local)) };
  }
  const electronDir = path.dirname(
    createRequire(path.join(ROOT, 'desktop', 'package.json')).resolve('electron/package.json'),
  );
  const binary = electronExecutable(path.join(electronDir, 'dist'));
  return existsSync(binary) ? { path: binary } : { problem: `${binary} does not exist` };
}

const electron = electronBinary();
if (!electron.path) {
  console.error(
    [
      'Cannot start the desktop app: no Electron binary.',
      `  (${electron.problem})`,
      'Its download was skipped (ELECTRON_SKIP_BINARY_DOWNLOAD) or failed. Either:',
      '  - with network access: node node_modules/electron/install.js',
      '  - or set TASKDOCK_ELECTRON_DIST to an unpacked Electron build of the version in',
      '    desktop/package.json (the same variable `npm run dist:dir` uses offline).',
      '`npm run serve` runs the same supervisor and services without Electron.',
    ].join('\n'),
  );
  process.exit(1);
}

/**
 * Before the window, unlike `npm run serve` (whose API does not wait): the window's first page
 * is the UI. A failed build is said and the app still starts; its page says why.
 */
async function buildUiIfMissing(): Promise<void> {
  const plan = uiBuildNeeded({
    checkoutRoot: ROOT,
    configuredUiDir: process.env.TASKDOCK_UI_DIR || undefined,
  });
  if (!plan) return;
  const ui = await startUiBuild(plan, { execPath: process.execPath, env: process.env });
  const stop = () => void ui.stop().then(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (ui.pid) {
    console.log(
      `Building the UI: first start of this checkout, about a minute (output in ${plan.log})`,
    );
  }
  const result = await ui.done;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  if (result.outcome === 'built') {
    console.log(`UI built in ${(result.durationMs / 1000).toFixed(1)} s`);
  } else if (result.outcome === 'elsewhere') {
    console.log(
      `The UI is being built by another start (pid ${result.pid}); its page reloads itself`,
    );
  } else {
    console.error(
      `UI build FAILED: ${result.message}\nOutput: ${plan.log}; retry: npm run build:frontend`,
    );
  }
}
await buildUiIfMissing();

// One ESM file for Electron's own Node; electron is provided by the runtime, tree-kill stays a
// normal dependency.
await build({
  entryPoints: [path.join(ROOT, 'desktop', 'src', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: ELECTRON_NODE_TARGET,
  external: ['electron', 'tree-kill'],
  sourcemap: true,
  logLevel: 'warning',
});

// Development tooling: Electron gets the developer's environment; the app builds its
// children's environments explicitly.
const env = { ...process.env };
delete env.ELECTRON_RUN_AS_NODE;
const child = spawn(electron.path, [outfile], { stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
