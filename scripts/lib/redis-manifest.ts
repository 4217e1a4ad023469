// The per-target manifests in resources-source/redis/<platform>-<arch>/manifest.json: types,
// loading and validation. Used by prepare-resources and the manifest tests.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REDIS_DIR = path.join(ROOT, 'resources-source', 'redis');

export const TARGETS = [
  'linux-x64',
  'linux-arm64',
  'darwin-x64',
  'darwin-arm64',
  'win32-x64',
] as const;
export type Target = (typeof TARGETS)[number];

export interface PinnedFile {
  readonly name: string;
  readonly sha256: string;
  readonly origin: string;
  readonly urls: readonly string[];
}

export interface RuntimeFile {
  readonly file: string;
  readonly licence: string;
  readonly why: string;
}

export interface RedisManifest {
  readonly target: Target;
  readonly server: {
    readonly name: 'redis' | 'valkey';
    readonly version: string;
    readonly licence: string;
    readonly licenceFile: string;
  };
  readonly source: {
    /** Alternatives with the same content: any one that verifies is used. */
    readonly tarballs: readonly PinnedFile[];
    readonly debian: { readonly package: string; readonly version: string };
    readonly patches: {
      readonly archive: PinnedFile;
      /** Patch paths (as in debian/patches/series) not applied, with the reason. */
      readonly skip: Readonly<Record<string, string>>;
    };
    readonly sourceDateEpoch: number;
  };
  readonly build: {
    readonly toolchain: string;
    readonly make: readonly string[];
    readonly env?: Readonly<Record<string, string>>;
    readonly strip: readonly string[];
    readonly linkage: {
      readonly tool: 'ldd' | 'otool' | 'objdump';
      readonly allowed: readonly string[];
    };
    readonly runtime?: readonly RuntimeFile[];
  };
  readonly binary: { readonly file: string; readonly lockFile: string };
}

/** What prepare-resources writes next to the binary; it ships in the package with it. */
export interface RedisLock {
  readonly target: Target;
  readonly server: string;
  readonly version: string;
  readonly licence: string;
  readonly binary: string;
  readonly sha256: string;
  readonly size: number;
  /** manifestDigest() of the manifest it was built from: a changed pin means a rebuild. */
  readonly manifestSha256: string;
  readonly source: { readonly name: string; readonly sha256: string; readonly via: string };
  readonly patches: { readonly archive: string; readonly applied: readonly string[] };
  readonly toolchain: string;
  readonly linkage: readonly string[];
  readonly versionOutput: string;
  readonly builtAt: string;
  readonly buildSeconds: number;
}

export function isTarget(value: string): value is Target {
  return (TARGETS as readonly string[]).includes(value);
}

export function hostTarget(platform = process.platform, arch = process.arch): string {
  return `${platform}-${arch}`;
}

export function manifestPath(target: Target): string {
  return path.join(REDIS_DIR, target, 'manifest.json');
}

export function loadManifest(target: Target): RedisManifest {
  const raw: unknown = JSON.parse(readFileSync(manifestPath(target), 'utf8'));
  const problems = validateManifest(raw, target);
  if (problems.length > 0) {
    throw new Error(`${manifestPath(target)} is invalid:\n  - ${problems.join('\n  - ')}`);
  }
  return raw as RedisManifest;
}

/** sha256 of the manifest's content (not its formatting). */
export function manifestDigest(m: RedisManifest): string {
  return createHash('sha256').update(JSON.stringify(m)).digest('hex');
}

/** [major, minor, patch] of a plain x.y.z version, or undefined. */
export function parseVersion(version: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/**
 * BullMQ needs Redis ≥ 6.2; Redis 7.4 and later are not BSD-licensed (RSALv2/SSPLv1, then AGPL),
 * so Redis is accepted from 6.2.0 to 7.2.x. Valkey (a BSD fork of Redis 7.2.4) from 7.2 on.
 */
export function isSupportedServer(name: string, version: string): boolean {
  const v = parseVersion(version);
  if (!v) return false;
  const [major, minor] = v;
  if (name === 'redis') return (major === 6 && minor >= 2) || (major === 7 && minor <= 2);
  if (name === 'valkey') return major > 7 || (major === 7 && minor >= 2);
  return false;
}

const SHA256 = /^[0-9a-f]{64}$/;

function checkPinned(value: unknown, where: string, problems: string[]): void {
  const f = value as Partial<PinnedFile> | undefined;
  if (!f || typeof f !== 'object') {
    problems.push(`${where} is missing`);
    return;
  }
  if (typeof f.name !== 'string' || !/^[\w.~+-]+$/.test(f.name)) {
    problems.push(`${where}.name must be a plain file name, got ${JSON.stringify(f.name)}`);
  }
  if (typeof f.sha256 !== 'string' || !SHA256.test(f.sha256)) {
    problems.push(`${where}.sha256 must be 64 lowercase hex digits`);
  }
  if (typeof f.origin !== 'string' || f.origin.length === 0) {
    problems.push(`${where}.origin must say where the file comes from`);
  }
  if (!Array.isArray(f.urls) || f.urls.length === 0) {
    problems.push(`${where}.urls must list at least one URL`);
  } else {
    for (const url of f.urls) {
      if (typeof url !== 'string' || !/^https?:\/\/[^/]+\/\S+$/.test(url)) {
        problems.push(`${where}.urls has a bad URL ${JSON.stringify(url)}`);
      }
    }
  }
}

/** Every problem at once, so a bad edit is fixed in one go. */
export function validateManifest(raw: unknown, expectedTarget: Target): string[] {
  const problems: string[] = [];
  const m = raw as Partial<RedisManifest> | undefined;
  if (!m || typeof m !== 'object') return ['manifest is not a JSON object'];

  if (m.target !== expectedTarget) {
    problems.push(
      `target must be "${expectedTarget}" (its folder), got ${JSON.stringify(m.target)}`,
    );
  }
  const s = m.server;
  if (!s) {
    problems.push('server is missing');
  } else {
    if (s.name !== 'redis' && s.name !== 'valkey') {
      problems.push(`server.name must be "redis" or "valkey", got ${JSON.stringify(s.name)}`);
    }
    if (!isSupportedServer(s.name, s.version)) {
      problems.push(
        `server ${s.name} ${s.version} is outside what we ship: Redis 6.2.0–7.2.x or Valkey ≥ 7.2`,
      );
    }
    if (s.licence !== 'BSD-3-Clause') {
      problems.push(`server.licence must be BSD-3-Clause, got ${JSON.stringify(s.licence)}`);
    }
    if (typeof s.licenceFile !== 'string' || !/^[\w.-]+$/.test(s.licenceFile)) {
      problems.push('server.licenceFile must name the licence file in the source tarball');
    }
  }

  const src = m.source;
  if (!src) {
    problems.push('source is missing');
  } else {
    if (!Array.isArray(src.tarballs) || src.tarballs.length === 0) {
      problems.push('source.tarballs must list at least one pinned tarball');
    } else {
      src.tarballs.forEach((t, i) => {
        checkPinned(t, `source.tarballs[${i}]`, problems);
      });
    }
    if (!src.debian || typeof src.debian.version !== 'string') {
      problems.push('source.debian.version is missing');
    }
    checkPinned(src.patches?.archive, 'source.patches.archive', problems);
    if (!src.patches?.skip || typeof src.patches.skip !== 'object') {
      problems.push('source.patches.skip must map skipped patches to a reason');
    }
    if (!Number.isInteger(src.sourceDateEpoch) || (src.sourceDateEpoch ?? 0) <= 0) {
      problems.push('source.sourceDateEpoch must be a positive integer');
    }
  }

  const b = m.build;
  if (!b) {
    problems.push('build is missing');
  } else {
    for (const flag of ['BUILD_TLS=no', 'USE_SYSTEMD=no']) {
      if (!b.make?.includes(flag)) problems.push(`build.make must include ${flag}`);
    }
    const wantTool = expectedTarget.startsWith('darwin')
      ? 'otool'
      : expectedTarget.startsWith('win32')
        ? 'objdump'
        : 'ldd';
    if (b.linkage?.tool !== wantTool) problems.push(`build.linkage.tool must be ${wantTool}`);
    if (!Array.isArray(b.linkage?.allowed) || b.linkage.allowed.length === 0) {
      problems.push('build.linkage.allowed must list the libraries the binary may load');
    }
    if (!Array.isArray(b.strip) || b.strip.length === 0) problems.push('build.strip is missing');
    for (const r of b.runtime ?? []) {
      if (!r.file || !r.licence || !r.why) {
        problems.push('build.runtime entries need file, licence and why');
      }
    }
  }

  const wantBinary = expectedTarget.startsWith('win32') ? 'redis-server.exe' : 'redis-server';
  if (m.binary?.file !== wantBinary) problems.push(`binary.file must be "${wantBinary}"`);
  if (m.binary?.lockFile !== 'redis-server.lock.json') {
    problems.push('binary.lockFile must be "redis-server.lock.json"');
  }
  return problems;
}
