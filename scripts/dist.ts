// ENTRY (tooling): installers for this machine's OS with electron-builder (electron-builder.yml).
//   npm run dist                     installers (mac dmg + zip, win nsis, linux AppImage + deb)
//   npm run dist:dir                 the unpacked app only, in release/<os>[-<arch>]-unpacked
//   ... -- --arch x64|arm64          target arch (default: this machine's; macOS can do both)
// Both run prepare:resources and build first (see package.json). Before packaging this checks
// that the bundles exist and that the redis-server for the target matches its lock file.
//
// TASKDOCK_ELECTRON_DIST=<dir or zip>: use this Electron build instead of letting
// electron-builder download one (needed offline; tests pass a stand-in directory).
// TASKDOCK_PUBLISH_REPOSITORY=<owner>/<repo>: the GitHub repository the app updates from, in
// place of electron-builder.yml's placeholder (release.yml sets it; docs/packaging.md).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Arch, build, Platform } from 'electron-builder';
import { electronDistProblem } from './lib/electron-dist.ts';
import { sha256File } from './lib/fetch-verified.ts';
import { isTarget, REDIS_DIR, type RedisLock, ROOT } from './lib/redis-manifest.ts';

const { values } = parseArgs({
  options: {
    dir: { type: 'boolean', default: false },
    arch: { type: 'string', default: process.arch },
  },
});

async function checkInputs(target: string): Promise<string[]> {
  const problems: string[] = [];
  for (const file of [
    'dist/app/package.json',
    'dist/app/main.mjs',
    'dist/bundles/server.mjs',
    'dist/bundles/worker.mjs',
  ]) {
    if (!existsSync(path.join(ROOT, file))) problems.push(`${file} is missing: npm run build`);
  }
  if (!isTarget(target)) {
    problems.push(`no bundled redis-server is defined for ${target}`);
    return problems;
  }
  const dir = path.join(REDIS_DIR, target);
  const lockFile = path.join(dir, 'redis-server.lock.json');
  if (!existsSync(lockFile)) {
    problems.push(
      `${path.relative(ROOT, lockFile)} is missing: npm run prepare:resources -- --target ${target}`,
    );
    return problems;
  }
  const lock = JSON.parse(await readFile(lockFile, 'utf8')) as RedisLock;
  const binary = path.join(dir, lock.binary);
  const actual = existsSync(binary) ? await sha256File(binary) : 'missing';
  if (actual !== lock.sha256) {
    problems.push(
      `${path.relative(ROOT, binary)} sha256 ${actual} is not the locked ${lock.sha256}: npm run prepare:resources -- --force`,
    );
  }
  return problems;
}

/** A download that failed for want of network says what to do instead of a raw socket error. */
function offlineHint(err: Error, localElectron: boolean): Error {
  const offline = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH/.test(
    `${err.message} ${(err as { code?: string }).code ?? ''}`,
  );
  if (!offline) return err;
  const what = localElectron
    ? `the installer tools could not be downloaded (${err.message.split('\n')[0]}): \`dist\` needs network; \`dist:dir\` works offline with TASKDOCK_ELECTRON_DIST`
    : `Electron could not be downloaded (${err.message.split('\n')[0]}): without network, set TASKDOCK_ELECTRON_DIST to an unpacked Electron build (or its zip) of the version in desktop/package.json`;
  return new Error(what);
}

async function main(): Promise<void> {
  const arch = values.arch as string;
  if (arch !== 'x64' && arch !== 'arm64')
    throw new Error(`--arch must be x64 or arm64, got ${arch}`);
  const target = `${process.platform}-${arch}`;
  const problems = await checkInputs(target);
  const electronDist = process.env.TASKDOCK_ELECTRON_DIST;
  const electronProblem = electronDist && electronDistProblem(electronDist, { zipAllowed: true });
  if (electronProblem) problems.push(electronProblem);
  const repository = process.env.TASKDOCK_PUBLISH_REPOSITORY || undefined;
  const [owner, repo, extra] = repository?.split('/') ?? [];
  if (repository !== undefined && (!owner || !repo || extra !== undefined)) {
    problems.push(`TASKDOCK_PUBLISH_REPOSITORY must be <owner>/<repo>, got "${repository}"`);
  }
  if (problems.length > 0)
    throw new Error(`cannot package ${target}:\n  - ${problems.join('\n  - ')}`);

  const config: Record<string, unknown> = {};
  if (owner && repo) {
    config.publish = { provider: 'github', owner, repo };
    console.log(`dist: updates from the GitHub releases of ${owner}/${repo}`);
  }
  if (electronDist) {
    const resolved = path.resolve(electronDist);
    config.electronDist = resolved;
    console.log(`dist: using the Electron build at ${resolved} (TASKDOCK_ELECTRON_DIST)`);
  } else {
    console.log(
      'dist: electron-builder will download Electron (set TASKDOCK_ELECTRON_DIST to use a local one)',
    );
  }
  const started = Date.now();
  const artifacts = await build({
    projectDir: ROOT,
    targets: Platform.current().createTarget(values.dir ? 'dir' : undefined, Arch[arch]),
    config,
    publish: 'never',
  }).catch((err: Error) => {
    throw offlineHint(err, electronDist !== undefined);
  });
  console.log(`dist: ${target} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const a of artifacts) console.log(`dist:   ${path.relative(ROOT, a)}`);
}

try {
  await main();
} catch (err) {
  console.error(`dist: FAILED: ${(err as Error).message}`);
  process.exit(1);
}
