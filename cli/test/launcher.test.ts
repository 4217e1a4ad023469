import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { trackResources } from '@taskdock/desktop/test/helpers/process.ts';
import { type BuildOptions, build } from 'esbuild';

const resources = trackResources();
const LAUNCHER = fileURLToPath(new URL('../launchers/taskdock', import.meta.url));
// The build's own bundle settings; scripts/ is another tsc project, so it is loaded by URL and
// typed here by what this test uses.
const BUNDLES_URL = new URL('../../scripts/lib/bundles.ts', import.meta.url).href;
interface BundleEntry {
  readonly source: string;
  readonly outfile: string;
}
interface Bundles {
  readonly ENTRIES: readonly BundleEntry[];
  optionsFor(entry: BundleEntry): BuildOptions;
}

test('the packaged command: the bundle runs with no node_modules, the launcher finds the app through links', {
  skip: process.platform === 'win32' && 'the sh launcher',
}, async () => {
  // An installed app's layout (Linux): <app>/taskdock, <app>/resources/{bin,bundles}/.
  const root = await resources.dataDir();
  const appDir = path.join(root, 'opt', 'Taskdock');
  await mkdir(path.join(appDir, 'resources', 'bin'), { recursive: true });
  const { ENTRIES, optionsFor } = (await import(BUNDLES_URL)) as Bundles;
  const entry = ENTRIES.find((e) => e.source === 'cli/src/bin.ts');
  assert.ok(entry, 'scripts/lib/bundles.ts bundles the CLI');
  await build({
    ...optionsFor(entry),
    outfile: path.join(appDir, 'resources', entry.outfile),
    sourcemap: false,
    logLevel: 'error',
  });
  await copyFile(LAUNCHER, path.join(appDir, 'resources', 'bin', 'taskdock'));
  // The app's binary as Node, as Electron is with ELECTRON_RUN_AS_NODE=1 (refused without).
  await writeFile(
    path.join(appDir, 'taskdock'),
    `#!/bin/sh\n[ "$ELECTRON_RUN_AS_NODE" = 1 ] || exit 9\nexec "${process.execPath}" "$@"\n`,
    { mode: 0o755 },
  );
  // /usr/bin/taskdock → /etc/alternatives/taskdock → the launcher, as the .deb links it.
  const usrBin = path.join(root, 'usr', 'bin');
  const alternatives = path.join(root, 'etc', 'alternatives');
  await mkdir(usrBin, { recursive: true });
  await mkdir(alternatives, { recursive: true });
  await symlink(
    path.join(appDir, 'resources', 'bin', 'taskdock'),
    path.join(alternatives, 'taskdock'),
  );
  await symlink('../../etc/alternatives/taskdock', path.join(usrBin, 'taskdock'));

  const run = (...args: string[]) =>
    spawnSync('taskdock', args, {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: `${usrBin}:/usr/bin:/bin`, HOME: root, TASKDOCK_DATA_DIR: root },
    });
  const version = run('--version');
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  const none = run('list');
  assert.equal(none.status, 3, none.stderr);
  assert.match(none.stderr, /start Taskdock or run npm run serve/);
});
