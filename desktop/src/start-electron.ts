// ENTRY (development tooling): `npm start` = `tsc -b` (the worker and backend as JS in
// backend/dist), then this: bundle the Electron main process and launch Electron on it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';
import { findRepoRoot } from './paths.ts';

const repoRoot = findRepoRoot(import.meta.url);
const outfile = path.join(repoRoot, 'desktop', 'dist', 'electron', 'main.mjs');

/** Electron's binary, or undefined with the reason (its download is skipped in some setups). */
function electronBinary(): { path?: string; problem?: string } {
  try {
    const binary = createRequire(path.join(repoRoot, 'desktop', 'package.json'))(
      'electron',
    ) as string;
    return existsSync(binary) ? { path: binary } : { problem: `${binary} does not exist` };
  } catch (err) {
    return { problem: (err as Error).message };
  }
}

const electron = electronBinary();
if (!electron.path) {
  console.error(
    [
      'Cannot start the desktop app: the Electron binary is not installed.',
      `  (${electron.problem})`,
      'Its download was skipped (ELECTRON_SKIP_BINARY_DOWNLOAD) or failed. Either:',
      '  - with network access: node node_modules/electron/install.js',
      '  - or point ELECTRON_OVERRIDE_DIST_PATH at a folder holding an Electron 41 build.',
      '`npm run serve` runs the same supervisor and services without Electron.',
    ].join('\n'),
  );
  process.exit(1);
}

// One ESM file; electron is provided by the runtime, tree-kill stays a normal dependency.
await build({
  entryPoints: [path.join(repoRoot, 'desktop', 'src', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
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
