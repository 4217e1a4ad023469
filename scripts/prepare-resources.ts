// ENTRY (tooling): `npm run prepare:resources [-- options]`
// Builds the bundled redis-server for one target from the source pinned in
// resources-source/redis/<target>/manifest.json, checks what it links against, and writes the
// binary, its licence and a lock file (sha256 of what was produced) next to the manifest.
//
// Sources, in order: the cache (.tmp/redis-sources, by sha256) → Debian's source package via
// `apt-get source` (Linux with apt) → the pinned URLs. Every file is checked against its sha256.
// Offline, it fails within the connect timeout with a message saying what to do.
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_FETCH, FetchError, fetchVerified, sha256File } from './lib/fetch-verified.ts';
import {
  hostTarget,
  isTarget,
  loadManifest,
  manifestDigest,
  type PinnedFile,
  REDIS_DIR,
  type RedisLock,
  type RedisManifest,
  ROOT,
  TARGETS,
  type Target,
} from './lib/redis-manifest.ts';
import { commandExists, run, runOrThrow } from './lib/run.ts';

const USAGE = `Usage: npm run prepare:resources -- [options]

  --target <platform-arch>   one of ${TARGETS.join(', ')} (default: this machine)
  --source auto|apt|download where to get the pinned source (default: auto = cache, apt, URLs)
  --tarball <file>           use this local source tarball (must match a pinned sha256)
  --patches <file>           use this local Debian patch archive (must match its sha256)
  --mirror <base-url>        fetch pinned files as <base-url>/<name> instead of their URLs
  --cache-dir <dir>          where verified downloads are kept (default: .tmp/redis-sources)
  --connect-timeout-ms <n>   give up on a URL that does not connect in time (default: 10000)
  --fetch-only               get and verify the sources, build nothing
  --force                    rebuild even when the lock says the binary is up to date`;

class UsageError extends Error {}

interface Options {
  readonly target: Target;
  readonly source: 'auto' | 'apt' | 'download';
  readonly tarball: string | undefined;
  readonly patches: string | undefined;
  readonly mirror: string | undefined;
  readonly cacheDir: string;
  readonly connectTimeoutMs: number;
  readonly fetchOnly: boolean;
  readonly force: boolean;
}

const parseAll = (argv: string[]) =>
  parseArgs({
    args: argv,
    strict: true,
    options: {
      target: { type: 'string' },
      source: { type: 'string', default: 'auto' },
      tarball: { type: 'string' },
      patches: { type: 'string' },
      mirror: { type: 'string' },
      'cache-dir': { type: 'string' },
      'connect-timeout-ms': { type: 'string', default: String(DEFAULT_FETCH.connectTimeoutMs) },
      'fetch-only': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });

function parseOptions(argv: string[]): Options {
  let parsed: ReturnType<typeof parseAll>;
  try {
    parsed = parseAll(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const problems: string[] = [];
  const target = values.target ?? hostTarget();
  if (!isTarget(target)) problems.push(`--target must be one of ${TARGETS.join(', ')}`);
  const source = values.source;
  if (source !== 'auto' && source !== 'apt' && source !== 'download') {
    problems.push('--source must be auto, apt or download');
  }
  const timeout = Number(values['connect-timeout-ms']);
  if (!Number.isInteger(timeout) || timeout < 100) {
    problems.push('--connect-timeout-ms must be an integer ≥ 100');
  }
  if (values.mirror && !/^https?:\/\//.test(values.mirror)) {
    problems.push('--mirror must be an http(s) URL');
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return {
    target: target as Target,
    source: source as Options['source'],
    tarball: values.tarball ? path.resolve(values.tarball) : undefined,
    patches: values.patches ? path.resolve(values.patches) : undefined,
    mirror: values.mirror?.replace(/\/+$/, ''),
    cacheDir: path.resolve(values['cache-dir'] ?? path.join(ROOT, '.tmp', 'redis-sources')),
    connectTimeoutMs: timeout,
    fetchOnly: values['fetch-only'],
    force: values.force,
  };
}

const log = (msg: string) => console.log(`prepare:resources: ${msg}`);

// ---------------------------------------------------------------------------------------------
// Sources

interface Obtained {
  readonly file: string;
  readonly pinned: PinnedFile;
  readonly via: string;
}

async function fileMatches(file: string, sha256: string): Promise<boolean> {
  try {
    return (await sha256File(file)) === sha256;
  } catch {
    return false;
  }
}

async function fromLocalFile(file: string, candidates: readonly PinnedFile[]): Promise<Obtained> {
  const actual = await sha256File(file).catch((err: Error) => {
    throw new Error(`cannot read ${file}: ${err.message}`);
  });
  const pinned = candidates.find((c) => c.sha256 === actual);
  if (!pinned) {
    throw new Error(
      `${file} has sha256 ${actual}, which is none of the pinned ones:\n    ${candidates
        .map((c) => `${c.name} ${c.sha256}`)
        .join('\n    ')}`,
    );
  }
  return { file, pinned, via: `file ${file}` };
}

async function fromCache(cacheDir: string, candidates: readonly PinnedFile[]) {
  for (const pinned of candidates) {
    const file = path.join(cacheDir, pinned.name);
    if (await fileMatches(file, pinned.sha256)) return { file, pinned, via: 'cache' };
  }
  return undefined;
}

const APT_TIMEOUTS = ['-o', 'Acquire::http::Timeout=10', '-o', 'Acquire::Retries=0'];
const DEB_SRC_FILE = '/etc/apt/sources.list.d/taskdock-deb-src.sources';

/** deb822 stanzas of the system's Debian sources with `Types: deb-src`. */
async function debSrcStanzas(): Promise<string | undefined> {
  const text = await readFile('/etc/apt/sources.list.d/debian.sources', 'utf8').catch(() => '');
  const stanzas = text
    .split(/\n\s*\n/)
    .map((s) =>
      s
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith('#'))
        .map((l) => (l.startsWith('Types:') ? 'Types: deb-src' : l))
        .join('\n'),
    )
    .filter((s) => s.includes('URIs:'));
  return stanzas.length > 0 ? `${stanzas.join('\n\n')}\n` : undefined;
}

/** `apt-get source --download-only <pkg>=<version>`; configures deb-src once if it must. */
async function fromApt(m: RedisManifest, cacheDir: string): Promise<Obtained[] | string> {
  if (process.platform !== 'linux' || !(await commandExists('apt-get'))) {
    return 'apt-get is not available';
  }
  const spec = `${m.source.debian.package}=${m.source.debian.version}`;
  const aptSource = () =>
    run('apt-get', ['source', '--download-only', ...APT_TIMEOUTS, spec], { cwd: cacheDir });
  let r = await aptSource();
  if (r.code !== 0 && /deb-src|Unable to find a source package/.test(r.stderr)) {
    if (process.getuid?.() !== 0) {
      return `apt has no deb-src entries and configuring them needs root: add "Types: deb deb-src" to /etc/apt/sources.list.d/debian.sources, run apt-get update, then retry`;
    }
    const stanzas = await debSrcStanzas();
    if (!stanzas)
      return 'apt has no deb-src entries and /etc/apt/sources.list.d/debian.sources was not found to derive them';
    log(`configuring deb-src in ${DEB_SRC_FILE} and running apt-get update`);
    await writeFile(DEB_SRC_FILE, stanzas);
    const u = await run('apt-get', ['update', ...APT_TIMEOUTS]);
    if (u.code !== 0) return `apt-get update failed: ${u.stderr.trim().split('\n').pop()}`;
    r = await aptSource();
  }
  if (r.code !== 0) {
    const why = r.stderr.trim().split('\n').filter(Boolean).pop() ?? `exit code ${r.code}`;
    return `apt-get source ${spec} failed: ${why}`;
  }
  const orig = m.source.tarballs.find((t) => t.name.endsWith('.orig.tar.gz'));
  const wanted = [orig, m.source.patches.archive].filter((x): x is PinnedFile => !!x);
  const got: Obtained[] = [];
  for (const pinned of wanted) {
    const file = path.join(cacheDir, pinned.name);
    const actual = await sha256File(file).catch(() => 'missing');
    if (actual !== pinned.sha256) {
      throw new Error(
        `apt-get source gave ${pinned.name} with sha256 ${actual}, not the pinned ${pinned.sha256}`,
      );
    }
    got.push({ file, pinned, via: `apt-get source ${spec}` });
  }
  return got;
}

async function download(
  candidates: readonly PinnedFile[],
  opts: Options,
  attempts: string[],
): Promise<Obtained | undefined> {
  for (const pinned of candidates) {
    const urls = opts.mirror ? [`${opts.mirror}/${pinned.name}`] : pinned.urls;
    const dest = path.join(opts.cacheDir, pinned.name);
    try {
      const url = await fetchVerified(urls, pinned.sha256, dest, {
        ...DEFAULT_FETCH,
        connectTimeoutMs: opts.connectTimeoutMs,
      });
      return { file: dest, pinned, via: url };
    } catch (err) {
      if (!(err instanceof FetchError)) throw err;
      attempts.push(...err.attempts);
    }
  }
  return undefined;
}

async function obtainSources(m: RedisManifest, opts: Options) {
  await mkdir(opts.cacheDir, { recursive: true });
  const tarballs = m.source.tarballs;
  const patchArchive = [m.source.patches.archive];
  let tarball = opts.tarball ? await fromLocalFile(opts.tarball, tarballs) : undefined;
  let patches = opts.patches ? await fromLocalFile(opts.patches, patchArchive) : undefined;
  tarball ??= await fromCache(opts.cacheDir, tarballs);
  patches ??= await fromCache(opts.cacheDir, patchArchive);

  const notes: string[] = [];
  if ((!tarball || !patches) && opts.source !== 'download' && !opts.mirror) {
    const viaApt = await fromApt(m, opts.cacheDir);
    if (typeof viaApt === 'string') {
      if (opts.source === 'apt') throw new Error(viaApt);
      notes.push(`apt: ${viaApt}`);
    } else {
      tarball ??= viaApt.find((o) => o.pinned.name.endsWith('.orig.tar.gz'));
      patches ??= viaApt.find((o) => o.pinned === m.source.patches.archive);
    }
  }
  if ((!tarball || !patches) && opts.source !== 'apt') {
    const attempts: string[] = [];
    tarball ??= await download(tarballs, opts, attempts);
    patches ??= await download(patchArchive, opts, attempts);
    notes.push(...attempts);
  }
  if (!tarball || !patches) {
    const missing = [!tarball && 'the Redis source tarball', !patches && 'the Debian patch archive']
      .filter(Boolean)
      .join(' and ');
    throw new Error(
      `cannot get ${missing} (offline?). Tried:\n    ${notes.join('\n    ')}\n` +
        `  Fix: get online, or put a pinned file (${[...tarballs, ...patchArchive]
          .map((p) => p.name)
          .join(', ')}) in ${opts.cacheDir}, or pass --tarball/--patches <file>. ` +
        'Pins: resources-source/redis/README.md',
    );
  }
  return { tarball, patches };
}

// ---------------------------------------------------------------------------------------------
// Build

function crossCompiler(target: Target): string | undefined {
  const [platform, arch] = target.split('-') as [string, string];
  if (platform !== process.platform) {
    throw new Error(
      `cannot build ${target} on ${process.platform}: run this on a ${platform} machine`,
    );
  }
  if (arch === process.arch) return undefined;
  if (platform === 'darwin') return `clang -arch ${arch === 'x64' ? 'x86_64' : 'arm64'}`;
  throw new Error(`cannot cross-build ${target} on ${process.arch}: run this on a ${arch} machine`);
}

async function checkToolchain(m: RedisManifest): Promise<void> {
  const tools = ['make', 'tar', 'patch', m.build.strip[0] ?? 'strip', m.build.linkage.tool];
  tools.push(process.env.CC?.split(' ')[0] ?? (process.platform === 'darwin' ? 'clang' : 'cc'));
  const missing: string[] = [];
  for (const t of tools) if (!(await commandExists(t))) missing.push(t);
  if (missing.length > 0) {
    const hint =
      process.platform === 'linux'
        ? 'apt-get install build-essential patch'
        : process.platform === 'darwin'
          ? 'xcode-select --install'
          : 'in MSYS2: pacman -S make gcc patch';
    throw new Error(`missing build tools: ${missing.join(', ')} (${hint})`);
  }
}

/** On Windows the MSYS2 tools want forward slashes. */
const toolPath = (p: string) => (process.platform === 'win32' ? p.replaceAll('\\', '/') : p);

async function unpack(tarball: string, patches: string, workDir: string): Promise<string> {
  await rm(workDir, { recursive: true, force: true });
  await mkdir(path.join(workDir, 'debian-tar'), { recursive: true });
  // GNU tar (MSYS2) would read "D:/…" as host "D": --force-local.
  const local = process.platform === 'win32' ? ['--force-local'] : [];
  await runOrThrow('tar', [...local, '-xzf', toolPath(tarball), '-C', toolPath(workDir)]);
  await runOrThrow('tar', [
    ...local,
    '-xJf',
    toolPath(patches),
    '-C',
    toolPath(path.join(workDir, 'debian-tar')),
  ]);
  const dirs = (await readdir(workDir)).filter((d) => d !== 'debian-tar');
  if (dirs.length !== 1 || !dirs[0])
    throw new Error(`unexpected tarball layout in ${workDir}: ${dirs}`);
  return path.join(workDir, dirs[0]);
}

async function applyPatches(m: RedisManifest, workDir: string, srcDir: string): Promise<string[]> {
  const patchDir = path.join(workDir, 'debian-tar', 'debian', 'patches');
  const series = (await readFile(path.join(patchDir, 'series'), 'utf8'))
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
  const stale = Object.keys(m.source.patches.skip).filter((p) => !series.includes(p));
  if (stale.length > 0) {
    throw new Error(`manifest skips patches the series does not have: ${stale.join(', ')}`);
  }
  const applied: string[] = [];
  for (const p of series) {
    if (p in m.source.patches.skip) continue;
    await runOrThrow(
      'patch',
      // Short options: GNU patch and the BSD patch of macOS both read them the same way.
      ['-p1', '-N', '-t', '-s', '-i', toolPath(path.join(patchDir, p))],
      {
        cwd: srcDir,
      },
    );
    applied.push(p);
  }
  return applied;
}

/** The libraries the binary loads, checked against the manifest's allow-list. */
async function linkage(m: RedisManifest, binary: string): Promise<string[]> {
  const tool = m.build.linkage.tool;
  const args = {
    ldd: [toolPath(binary)],
    otool: ['-L', binary],
    objdump: ['-p', toolPath(binary)],
  };
  const r = await runOrThrow(tool, args[tool]);
  let lines = r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  let names: string[];
  if (tool === 'otool') {
    lines = lines.slice(1); // "<binary>:"
    names = lines.map((l) => l.split(/\s+/)[0] ?? '');
  } else if (tool === 'objdump') {
    // Direct imports only: `ldd` on Windows lists whatever the OS loader pulls in as well.
    lines = lines.filter((l) => l.startsWith('DLL Name:'));
    names = lines.map((l) => l.slice('DLL Name:'.length).trim());
  } else {
    names = lines.map((l) => path.posix.basename(l.split(/\s+/)[0] ?? ''));
  }
  const norm = (s: string) => (process.platform === 'win32' ? s.toLowerCase() : s);
  const allowed = new Set(m.build.linkage.allowed.map(norm));
  const unexpected = names.filter((n) => !allowed.has(norm(n)));
  if (unexpected.length > 0) {
    throw new Error(
      `${path.basename(binary)} links against ${unexpected.join(', ')}, beyond the C library; ` +
        `allowed: ${m.build.linkage.allowed.join(', ')}\n${lines.join('\n')}`,
    );
  }
  return lines;
}

/** A runtime DLL next to the MSYS2 tools (/usr/bin), as a Windows path. */
async function msysFile(file: string): Promise<string> {
  const r = await runOrThrow('cygpath', ['-w', `/usr/bin/${file}`]);
  return r.stdout.trim();
}

async function glibcRequired(binary: string): Promise<string | undefined> {
  if (process.platform !== 'linux' || !(await commandExists('objdump'))) return undefined;
  const r = await run('objdump', ['-T', binary]);
  let best: { key: number; text: string } | undefined;
  for (const x of r.stdout.matchAll(/GLIBC_(\d+)\.(\d+)(?:\.(\d+))?/g)) {
    const key = Number(x[1]) * 1e6 + Number(x[2]) * 1e3 + Number(x[3] ?? 0);
    if (!best || key > best.key) best = { key, text: x[0].slice('GLIBC_'.length) };
  }
  return best?.text;
}

async function toolchainVersion(cc: string): Promise<string> {
  const [cmd, ...args] = cc.split(' ');
  const r = await run(cmd ?? 'cc', [...args, '--version']);
  return r.stdout.split('\n')[0]?.trim() || cc;
}

async function readLock(file: string): Promise<RedisLock | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as RedisLock;
  } catch {
    return undefined;
  }
}

async function build(m: RedisManifest, opts: Options) {
  const started = Date.now();
  const outDir = path.join(REDIS_DIR, m.target);
  const lockFile = path.join(outDir, m.binary.lockFile);
  const outBinary = path.join(outDir, m.binary.file);
  const manifestSha = manifestDigest(m);

  const lock = await readLock(lockFile);
  if (
    !opts.force &&
    !opts.fetchOnly &&
    lock?.manifestSha256 === manifestSha &&
    (await fileMatches(outBinary, lock.sha256))
  ) {
    log(`${m.target}: ${m.binary.file} is up to date (sha256 ${lock.sha256}); --force rebuilds`);
    return;
  }

  const cc = crossCompiler(m.target);
  const { tarball, patches } = await obtainSources(m, opts);
  log(`source ${tarball.pinned.name} (sha256 ok, via ${tarball.via})`);
  log(`patches ${patches.pinned.name} (sha256 ok, via ${patches.via})`);
  if (opts.fetchOnly) return;

  await checkToolchain(m);
  const workDir = path.join(ROOT, '.tmp', 'redis-build', m.target);
  const srcDir = await unpack(tarball.file, patches.file, workDir);
  const applied = await applyPatches(m, workDir, srcDir);
  log(
    `applied ${applied.length} Debian security patches (skipped ${Object.keys(m.source.patches.skip).length} packaging patches)`,
  );

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...m.build.env,
    SOURCE_DATE_EPOCH: String(m.source.sourceDateEpoch),
    // mkreleasehdr.sh records `git show-ref`: keep it from finding Taskdock's own repository.
    GIT_DIR: path.join(workDir, 'no-git'),
  };
  if (cc) env.CC = cc;
  const jobs = String(Math.max(1, os.availableParallelism()));
  const logFile = path.join(workDir, 'build.log');
  log(
    `building redis-server ${m.server.version} for ${m.target} with -j${jobs} (log: ${path.relative(ROOT, logFile)})`,
  );
  await runOrThrow('make', ['-C', 'src', `-j${jobs}`, 'redis-server', ...m.build.make], {
    cwd: srcDir,
    env,
    logFile,
  });
  const built = path.join(srcDir, 'src', m.binary.file);
  await stat(built).catch(() => {
    throw new Error(`make finished but ${built} is missing (log: ${logFile})`);
  });

  // Everything in the target folder except the manifest is generated: start clean.
  await mkdir(outDir, { recursive: true });
  for (const f of await readdir(outDir)) {
    if (f !== 'manifest.json') await rm(path.join(outDir, f), { recursive: true, force: true });
  }
  await copyFile(built, outBinary);
  const [stripCmd, ...stripArgs] = m.build.strip;
  await runOrThrow(stripCmd ?? 'strip', [...stripArgs, toolPath(outBinary)]);

  let versionOutput = '';
  const v = await run(outBinary, ['--version']);
  if (v.spawnError && cc) {
    log(`cannot run a ${m.target} binary here (${v.spawnError.code}); --version check skipped`);
    versionOutput = '(cross-built; not run)';
  } else {
    versionOutput = v.stdout.trim();
    if (v.code !== 0 || !versionOutput.includes(`v=${m.server.version} `)) {
      throw new Error(
        `${outBinary} --version did not report v=${m.server.version}: ${versionOutput || v.stderr}`,
      );
    }
  }
  const link = await linkage(m, outBinary);

  for (const r of m.build.runtime ?? []) {
    await copyFile(await msysFile(r.file), path.join(outDir, r.file));
  }
  await copyFile(path.join(srcDir, m.server.licenceFile), path.join(outDir, m.server.licenceFile));

  const sha256 = await sha256File(outBinary);
  const size = (await stat(outBinary)).size;
  const glibc = await glibcRequired(outBinary);
  const result: RedisLock & { glibcRequired?: string } = {
    target: m.target,
    server: m.server.name,
    version: m.server.version,
    licence: m.server.licence,
    binary: m.binary.file,
    sha256,
    size,
    manifestSha256: manifestSha,
    source: { name: tarball.pinned.name, sha256: tarball.pinned.sha256, via: tarball.via },
    patches: { archive: patches.pinned.name, applied },
    toolchain: await toolchainVersion(
      cc ?? env.CC ?? (process.platform === 'darwin' ? 'clang' : 'cc'),
    ),
    linkage: link,
    versionOutput,
    builtAt: new Date().toISOString(),
    buildSeconds: Math.round((Date.now() - started) / 1000),
    ...(glibc ? { glibcRequired: glibc } : {}),
  };
  await writeFile(lockFile, `${JSON.stringify(result, null, 2)}\n`);

  log(`built ${path.relative(ROOT, outBinary)} in ${result.buildSeconds} s`);
  log(`  ${versionOutput}`);
  log(`  sha256 ${sha256}  size ${size} bytes${glibc ? `  needs glibc ≥ ${glibc}` : ''}`);
  log(`  ${m.build.linkage.tool}: ${link.join(' | ')}`);
  log(`  recorded in ${path.relative(ROOT, lockFile)}`);
}

try {
  const opts = parseOptions(process.argv.slice(2));
  await build(loadManifest(opts.target), opts);
} catch (err) {
  if (err instanceof UsageError) {
    console.error(`prepare:resources: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  console.error(`prepare:resources: FAILED: ${(err as Error).message}`);
  process.exit(1);
}
