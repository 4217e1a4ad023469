// electron-builder.yml against electron-builder's own JSON schema, plus what the package needs:
// the redis binary of the target only, bundles and UI outside app.asar, signed redis on macOS,
// per-user Windows install; and the icons generated from build/icon.svg.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { encodeIcns, encodeIco } from '../lib/icon-formats.ts';
import { ROOT } from '../lib/redis-manifest.ts';

const config = parse(readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8'));
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('electron-builder.yml', () => {
  it("validates against electron-builder's schema", () => {
    const require = createRequire(path.join(ROOT, 'desktop', 'package.json'));
    const schemaFile = path.join(
      path.dirname(require.resolve('app-builder-lib/package.json')),
      'scheme.json',
    );
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
    const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
    assert.ok(ajv.validate(schema, config), ajv.errorsText(ajv.errors, { separator: '\n' }));
  });

  it('packs only the Electron main bundle into app.asar', () => {
    assert.equal(config.productName, 'Taskdock');
    assert.match(config.appId, /^[a-z]+(\.[a-z]+)+$/);
    assert.equal(config.asar, true);
    assert.equal(config.directories.app, 'dist/app');
    assert.ok(config.files.includes('!**/*.map'));
  });

  it('puts redis-server of the target only, the bundles and the UI in resources', () => {
    const byTo = Object.fromEntries(config.extraResources.map((r: { to: string }) => [r.to, r]));
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an electron-builder macro
    assert.equal(byTo.redis.from, 'resources-source/redis/${platform}-${arch}');
    assert.equal(byTo.bundles.from, 'dist/bundles');
    assert.ok(byTo.bundles.filter.includes('!**/*.map'));
    assert.equal(byTo.ui.from, 'frontend/out');
  });

  it('signs redis-server with the hardened runtime on macOS', () => {
    assert.equal(config.mac.hardenedRuntime, true);
    // electron-updater updates a Mac app from the zip; the dmg is what users install.
    assert.deepEqual(config.mac.target, ['dmg', 'zip']);
    assert.deepEqual(config.mac.binaries, ['Contents/Resources/redis/redis-server']);
    const plist = readFileSync(path.join(ROOT, config.mac.entitlements), 'utf8');
    assert.match(plist, /<key>com\.apple\.security\.cs\.allow-jit<\/key>\s*<true\/>/);
    assert.doesNotMatch(plist, /disable-library-validation|app-sandbox/);
    assert.equal(config.mac.entitlementsInherit, config.mac.entitlements);
  });

  it('installs per user without admin on Windows; AppImage and deb on Linux', () => {
    assert.equal(config.win.target, 'nsis');
    assert.equal(config.nsis.perMachine, false);
    assert.equal(config.nsis.allowElevation, false);
    assert.equal(config.win.requestedExecutionLevel, 'asInvoker');
    assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  });

  it('publishes to a GitHub repository: a placeholder that release.yml replaces', () => {
    assert.equal(config.publish.provider, 'github');
    assert.equal(config.publish.owner, 'your-github-owner');
    assert.equal(config.publish.repo, 'taskdock');
  });
});

describe('icons', () => {
  it('exist for every platform, generated from build/icon.svg', () => {
    for (const file of [
      'build/icon.svg',
      'build/icon.png',
      'build/icon.ico',
      'build/icon.icns',
      'build/icons/512x512.png',
    ]) {
      assert.ok(existsSync(path.join(ROOT, file)), file);
    }
    assert.equal(config.mac.icon, 'build/icon.icns');
    assert.equal(config.win.icon, 'build/icon.ico');
    assert.equal(config.linux.icon, 'build/icons');
  });

  it('build/icon.ico is a PNG ICO with a 256 px image', () => {
    const ico = readFileSync(path.join(ROOT, 'build', 'icon.ico'));
    assert.equal(ico.readUInt16LE(2), 1, 'type: icon');
    const count = ico.readUInt16LE(4);
    const sizes: number[] = [];
    for (let i = 0; i < count; i++) {
      const entry = 6 + 16 * i;
      sizes.push(ico.readUInt8(entry) || 256);
      const offset = ico.readUInt32LE(entry + 12);
      assert.deepEqual(ico.subarray(offset, offset + 8), PNG_SIGNATURE);
    }
    assert.ok(sizes.includes(256) && sizes.includes(16), `sizes ${sizes}`);
  });

  it('build/icon.icns has a consistent length and PNG entries up to 1024 px', () => {
    const icns = readFileSync(path.join(ROOT, 'build', 'icon.icns'));
    assert.equal(icns.toString('ascii', 0, 4), 'icns');
    assert.equal(icns.readUInt32BE(4), icns.length);
    const types: string[] = [];
    for (let at = 8; at < icns.length; at += icns.readUInt32BE(at + 4)) {
      types.push(icns.toString('ascii', at, at + 4));
      assert.deepEqual(icns.subarray(at + 8, at + 16), PNG_SIGNATURE);
    }
    assert.ok(types.includes('ic10') && types.includes('ic07'), `types ${types}`);
  });

  it('encoders write the container headers', () => {
    const png = Buffer.concat([PNG_SIGNATURE, Buffer.from('data')]);
    const ico = encodeIco([{ size: 256, png }]);
    assert.equal(ico.length, 6 + 16 + png.length);
    assert.equal(ico.readUInt8(6), 0, '256 is written as 0');
    assert.equal(ico.readUInt32LE(6 + 12), 22, 'offset of the first image');
    const icns = encodeIcns([{ type: 'ic07', png }]);
    assert.equal(icns.readUInt32BE(4), icns.length);
    assert.equal(icns.readUInt32BE(12), png.length + 8);
  });
});
