// The esbuild bundles of every process entry (see scripts/build.ts for the layout).
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { ROOT } from './redis-manifest.ts';

export interface BundleEntry {
  /** Repository-relative TypeScript entry. */
  readonly source: string;
  /** Relative to dist/. */
  readonly outfile: string;
  /** `electron-main` keeps `electron` external (the runtime provides it). */
  readonly runtime: 'node' | 'electron-main';
  /** Skipped with a note while the file does not exist (entries other engineers are writing). */
  readonly optional?: boolean;
}

export const DIST = path.join(ROOT, 'dist');

/**
 * The Node inside the Electron of desktop/package.json, which runs every bundle in a package
 * (the main process, and the worker, backend, headless runner and CLI as ELECTRON_RUN_AS_NODE).
 * Electron 40 to 45 ship Node 24 (their release notes); scripts/test/packaging-messages.test.ts
 * ties this target to the Electron major.
 */
export const ELECTRON_NODE_TARGET = 'node24';

/**
 * The esbuild target of a Node version range's minimum: `>=22.12` → `node22.12`. Only a plain
 * lower bound is accepted, so the target cannot silently drift from what `engines` says.
 */
export function engineTarget(range: string): string {
  const match = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(range.trim());
  if (!match) throw new Error(`engines.node must be a plain ">=X.Y" range, got "${range}"`);
  return `node${match[1]}`;
}

/**
 * The Node of root package.json `engines`: the plain-Node bundles (worker, backend, headless,
 * CLI) run on it too (`smoke:bundles`, a server without Electron), so they target its minimum,
 * which Electron's newer Node runs as well. Only the Electron main bundle targets Electron's.
 */
export const ENGINES_NODE_TARGET = engineTarget(
  (
    JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
    }
  ).engines.node,
);

export const ENTRIES: readonly BundleEntry[] = [
  { source: 'backend/src/server.ts', outfile: 'bundles/server.mjs', runtime: 'node' },
  { source: 'backend/src/worker/main.ts', outfile: 'bundles/worker.mjs', runtime: 'node' },
  {
    source: 'desktop/src/headless.ts',
    outfile: 'bundles/headless.mjs',
    runtime: 'node',
    optional: true,
  },
  // The `taskdock` command; <resources>/bin/taskdock(.cmd) runs it with the app's own binary.
  { source: 'cli/src/bin.ts', outfile: 'bundles/cli.mjs', runtime: 'node' },
  {
    source: 'desktop/src/main.ts',
    outfile: 'app/main.mjs',
    runtime: 'electron-main',
    optional: true,
  },
];

/**
 * Optional dependencies that are loaded in a try/catch and have a pure-JS fallback or are never
 * used by Taskdock: left out of the bundle, so a missing one behaves as it does in development.
 */
const OPTIONAL_EXTERNALS = ['msgpackr-extract', '@valkey/valkey-glide', 'pino-pretty'];

// ESM output with CommonJS dependencies inside: give them require/__filename/__dirname.
const BANNER = [
  "import { createRequire as __tdCreateRequire } from 'node:module';",
  "import { fileURLToPath as __tdFileURLToPath } from 'node:url';",
  "import { dirname as __tdDirname } from 'node:path';",
  'const require = __tdCreateRequire(import.meta.url);',
  'const __filename = __tdFileURLToPath(import.meta.url);',
  'const __dirname = __tdDirname(__filename);',
].join('\n');

export function optionsFor(entry: BundleEntry): BuildOptions {
  return {
    entryPoints: [path.join(ROOT, entry.source)],
    outfile: path.join(DIST, entry.outfile),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: entry.runtime === 'electron-main' ? ELECTRON_NODE_TARGET : ENGINES_NODE_TARGET,
    external:
      entry.runtime === 'electron-main' ? ['electron', ...OPTIONAL_EXTERNALS] : OPTIONAL_EXTERNALS,
    banner: { js: BANNER },
    // Maps stay in dist/ for debugging; electron-builder leaves *.map out of the package.
    sourcemap: 'external',
    // Licences go to THIRD-PARTY-NOTICES.txt per output folder (see writeNotices).
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  };
}

async function appPackageJson(): Promise<void> {
  const root = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
    version: string;
    description: string;
    license: string;
  };
  const pkg = {
    name: 'taskdock',
    productName: 'Taskdock',
    version: root.version,
    description: root.description,
    license: root.license,
    author: { name: 'Taskdock' },
    main: 'main.mjs',
    // Electron's app_id / WM_CLASS on Linux; the .desktop file gets the same name.
    desktopName: 'taskdock.desktop',
  };
  await writeFile(path.join(DIST, 'app', 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
}

/** The node_modules package folders an esbuild metafile's inputs come from. */
export function packageDirs(metafile: Metafile): Set<string> {
  const dirs = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const matches = [...input.matchAll(/node_modules\/(?:@[^/]+\/)?[^/]+\//g)];
    const last = matches.at(-1);
    if (last) dirs.add(input.slice(0, (last.index ?? 0) + last[0].length - 1));
  }
  return dirs;
}

/** Name, version, licence and licence text of every package bundled into one folder. */
async function writeNotices(folder: string, dirs: Set<string>): Promise<number> {
  const parts: string[] = [];
  for (const dir of [...dirs].sort()) {
    const abs = path.resolve(process.cwd(), dir);
    const pkg = JSON.parse(await readFile(path.join(abs, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
      license?: string;
    };
    const licenceFile = (await readdir(abs)).find((f) => /^(licen[cs]e|copying)/i.test(f));
    const text = licenceFile ? await readFile(path.join(abs, licenceFile), 'utf8') : '';
    parts.push(
      `${pkg.name}@${pkg.version} (${pkg.license ?? 'licence not stated'})\n\n${text.trim() || '(no licence file in the package)'}\n`,
    );
  }
  const header = `Third-party software bundled into ${path.basename(folder)}/ by esbuild.\n`;
  await writeFile(
    path.join(folder, 'THIRD-PARTY-NOTICES.txt'),
    `${header}\n${parts.join(`\n${'-'.repeat(78)}\n\n`)}`,
  );
  return parts.length;
}

/**
 * The text with every non-ASCII UTF-16 unit written as a `\u` escape. esbuild escapes them in
 * code (its default charset) but keeps comments as written, and one left makes V8 hold the whole
 * source as two-byte text: twice the memory (10 MB instead of 5 for server.mjs). What is left is
 * in comments, where the escape changes nothing.
 */
export function escapeNonAscii(text: string): string {
  return text.replace(
    /[\u0080-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

export async function buildBundles(): Promise<Metafile[]> {
  const started = Date.now();
  await rm(DIST, { recursive: true, force: true });
  const metas: Metafile[] = [];
  const perFolder = new Map<string, Set<string>>();
  for (const entry of ENTRIES) {
    if (!existsSync(path.join(ROOT, entry.source))) {
      if (!entry.optional) throw new Error(`${entry.source} does not exist`);
      console.log(`build: ${entry.source} is not there yet: ${entry.outfile} skipped`);
      continue;
    }
    const result = await build(optionsFor(entry));
    const outfile = path.join(DIST, entry.outfile);
    const text = await readFile(outfile, 'utf8');
    const ascii = escapeNonAscii(text);
    if (ascii !== text) await writeFile(outfile, ascii);
    const metafile = result.metafile;
    if (!metafile) throw new Error(`esbuild gave no metafile for ${entry.source}`);
    metas.push(metafile);
    const folder = path.dirname(outfile);
    const dirs = perFolder.get(folder) ?? new Set<string>();
    for (const d of packageDirs(metafile)) dirs.add(d);
    perFolder.set(folder, dirs);
    const inputs = Object.keys(metafile.inputs).length;
    // ASCII now: its length is the size written (esbuild's metafile has the size before).
    console.log(
      `build: ${entry.outfile.padEnd(22)} ${kib(ascii.length).padStart(9)}  (${inputs} modules)`,
    );
  }
  for (const [folder, dirs] of perFolder) {
    const count = await writeNotices(folder, dirs);
    console.log(
      `build: ${path.relative(DIST, folder)}/THIRD-PARTY-NOTICES.txt lists ${count} packages`,
    );
  }
  if (existsSync(path.join(DIST, 'app', 'main.mjs'))) {
    await appPackageJson();
  } else {
    console.log('build: no Electron main bundle: dist/app cannot be packaged yet');
  }
  console.log(
    `build: done in ${((Date.now() - started) / 1000).toFixed(1)} s → ${path.relative(ROOT, DIST)}/`,
  );
  return metas;
}
