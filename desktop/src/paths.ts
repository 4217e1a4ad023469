import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkoutUiDir } from '@taskdock/shared/node/ui-build';

/**
 * Where the worker and backend code lives:
 * - `source`: the TypeScript entries, run with tsx (`npm run serve`, tests);
 * - `built`: `tsc -b` output in backend/dist (`npm start` in development);
 * - `packaged`: the app's resources (bundles and redis-server put there by electron-builder).
 */
export type Layout =
  | { readonly kind: 'source'; readonly repoRoot: string }
  | { readonly kind: 'built'; readonly repoRoot: string }
  | { readonly kind: 'packaged'; readonly resourcesPath: string };

/** How Node code is run: plain node, or Electron's binary acting as Node. */
export interface NodeRunner {
  readonly execPath: string;
  readonly electron: boolean;
}

/**
 * How this process runs: Electron's binary acting as Node (ELECTRON_RUN_AS_NODE=1, as the
 * packaged app runs `bundles/headless.mjs`) or plain node. The worker and backend are started
 * with the same binary, so under Electron they need ELECTRON_RUN_AS_NODE=1 too (see
 * nodeServiceCommand); without it each would start another copy of the desktop app.
 */
export function currentRunner(
  execPath: string,
  versions: Readonly<Record<string, string | undefined>>,
): NodeRunner {
  return { execPath, electron: versions.electron !== undefined };
}

/** The repository root (the folder with backend/ and desktop/) above a module URL or path. */
export function findRepoRoot(from: string): string {
  let dir = path.dirname(from.startsWith('file:') ? fileURLToPath(from) : from);
  for (;;) {
    if (
      fs.existsSync(path.join(dir, 'backend', 'package.json')) &&
      fs.existsSync(path.join(dir, 'desktop', 'package.json'))
    ) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No Taskdock repository above ${from}`);
    dir = parent;
  }
}

/**
 * The layout of the code a module runs from: a `.ts` file is the sources (tsx); a `.mjs` in a
 * `bundles/` folder next to worker.mjs is a package's resources (electron-builder puts them in
 * `<resources>/bundles`, scripts/lib/bundles.ts); anything else is `tsc -b` output.
 */
export function detectLayout(moduleUrl: string): Layout {
  const file = moduleUrl.startsWith('file:') ? fileURLToPath(moduleUrl) : moduleUrl;
  if (file.endsWith('.ts')) return { kind: 'source', repoRoot: findRepoRoot(file) };
  const dir = path.dirname(file);
  if (path.basename(dir) === 'bundles' && fs.existsSync(path.join(dir, 'worker.mjs'))) {
    return { kind: 'packaged', resourcesPath: path.dirname(dir) };
  }
  return { kind: 'built', repoRoot: findRepoRoot(file) };
}

/**
 * Where this layout's UI static export is (or will be: `npm run build:frontend` writes
 * frontend/out). Given even before it is built, so the backend shows its "UI not built" page,
 * and the UI as soon as the build appears, instead of a bare 404 for `/`.
 */
export function defaultUiDir(layout: Layout): string {
  return layout.kind === 'packaged'
    ? path.join(layout.resourcesPath, 'ui')
    : checkoutUiDir(layout.repoRoot);
}

/**
 * Node flags of the worker and backend, in every layout (the bench runs them with these too).
 * V8 grows the young generation to 16 MiB per semi-space in a busy moment and keeps the pages:
 * capped at 2 MiB, the backend idles 27 MB smaller for about 5% more CPU per created task. The
 * worker keeps V8's default: capped, it spent 2.5 times as long in GC while draining a queue.
 */
export const SERVICE_NODE_FLAGS: Readonly<Record<'worker' | 'backend', readonly string[]>> = {
  worker: [],
  backend: ['--max-semi-space-size=2'],
};

/** The command and arguments that run the worker or backend entry in this layout. */
export function nodeServiceCommand(
  layout: Layout,
  runner: NodeRunner,
  service: 'worker' | 'backend',
): { command: string; args: string[]; env: Record<string, string> } {
  const env: Record<string, string> = runner.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {};
  const command = runner.execPath;
  const flags = SERVICE_NODE_FLAGS[service];
  if (layout.kind === 'packaged') {
    const file = service === 'worker' ? 'worker.mjs' : 'server.mjs';
    return {
      command,
      args: [...flags, path.join(layout.resourcesPath, 'bundles', file)],
      env,
    };
  }
  const rel = service === 'worker' ? ['worker', 'main'] : ['server'];
  if (layout.kind === 'built') {
    const entry = path.join(layout.repoRoot, 'backend', 'dist', 'src', ...rel);
    return { command, args: [...flags, `${entry}.js`], env };
  }
  const entry = path.join(layout.repoRoot, 'backend', 'src', ...rel);
  // An absolute loader URL: the child's working directory does not matter.
  return {
    command,
    args: [...flags, '--import', import.meta.resolve('tsx'), `${entry}.ts`],
    env,
  };
}

export interface RedisLookup {
  readonly layout: Layout;
  readonly platform: NodeJS.Platform;
  readonly arch: string;
  /** TASKDOCK_REDIS_SERVER. */
  readonly override: string | undefined;
  /** PATH (and PATHEXT on Windows). */
  readonly pathEnv: string;
  readonly pathExt?: string | undefined;
}

export class RedisBinaryMissingError extends Error {
  constructor(readonly searched: readonly string[]) {
    super(
      `redis-server was not found. Looked in:\n  - ${searched.join('\n  - ')}\n` +
        'Install Redis (≥ 6.2) so redis-server is on PATH, set TASKDOCK_REDIS_SERVER to its path, ' +
        'or run `npm run prepare:resources` to build the bundled one.',
    );
    this.name = 'RedisBinaryMissingError';
  }
}

function isExecutable(file: string, platform: NodeJS.Platform): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    if (platform !== 'win32') fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The redis-server to run: the packaged resources, then resources-source/redis/<platform>-<arch>
 * (what `prepare:resources` builds), then TASKDOCK_REDIS_SERVER, then PATH. A
 * TASKDOCK_REDIS_SERVER that is set but wrong is an error, not a silent fallback to PATH.
 */
export function resolveRedisServer(lookup: RedisLookup): { path: string; source: string } {
  const exe = lookup.platform === 'win32' ? 'redis-server.exe' : 'redis-server';
  const searched: string[] = [];
  const candidates: { path: string; source: string }[] = [];
  if (lookup.layout.kind === 'packaged') {
    candidates.push({
      path: path.join(lookup.layout.resourcesPath, 'redis', exe),
      source: 'packaged resources',
    });
  } else {
    candidates.push({
      path: path.join(
        lookup.layout.repoRoot,
        'resources-source',
        'redis',
        `${lookup.platform}-${lookup.arch}`,
        exe,
      ),
      source: 'resources-source',
    });
  }
  for (const candidate of candidates) {
    if (isExecutable(candidate.path, lookup.platform)) return candidate;
    searched.push(`${candidate.path} (${candidate.source}): not there`);
  }
  if (lookup.override) {
    if (isExecutable(lookup.override, lookup.platform)) {
      return { path: lookup.override, source: 'TASKDOCK_REDIS_SERVER' };
    }
    searched.push(`TASKDOCK_REDIS_SERVER=${lookup.override}: not an executable file`);
    throw new RedisBinaryMissingError(searched);
  }
  const exts = lookup.platform === 'win32' ? ['', ...(lookup.pathExt ?? '.EXE').split(';')] : [''];
  const base = lookup.platform === 'win32' ? 'redis-server' : exe;
  for (const dir of lookup.pathEnv.split(path.delimiter).filter(Boolean)) {
    for (const ext of exts) {
      const file = path.join(dir, base + ext.toLowerCase());
      if (isExecutable(file, lookup.platform)) return { path: file, source: 'PATH' };
    }
  }
  searched.push(`PATH (${lookup.pathEnv || 'empty'})`);
  throw new RedisBinaryMissingError(searched);
}
