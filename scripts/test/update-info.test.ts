import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { mergeUpdateInfo } from '../lib/update-info.ts';

// As electron-builder writes latest-mac.yml in each mac job of release.yml.
const arm64 = `version: 1.2.3
files:
  - url: Taskdock-1.2.3-mac-arm64.zip
    sha512: aaa
    size: 100
path: Taskdock-1.2.3-mac-arm64.zip
sha512: aaa
releaseDate: '2026-12-01T00:00:00.000Z'
`;
const x64 = arm64.replaceAll('arm64', 'x64').replaceAll('aaa', 'bbb');

describe('latest-mac.yml of both mac jobs', () => {
  it('becomes one that lists the zip of each arch', () => {
    const merged = parse(
      mergeUpdateInfo([
        { name: 'arm64/latest-mac.yml', text: arm64 },
        { name: 'x64/latest-mac.yml', text: x64 },
      ]),
    );
    assert.equal(merged.version, '1.2.3');
    assert.deepEqual(
      merged.files.map((f: { url: string }) => f.url),
      ['Taskdock-1.2.3-mac-arm64.zip', 'Taskdock-1.2.3-mac-x64.zip'],
    );
    assert.equal(merged.path, 'Taskdock-1.2.3-mac-arm64.zip');
  });

  it('refuses files of two versions, or a file that is not update info', () => {
    assert.throws(
      () =>
        mergeUpdateInfo([
          { name: 'a.yml', text: arm64 },
          { name: 'b.yml', text: x64.replace('version: 1.2.3', 'version: 1.2.4') },
        ]),
      /b\.yml is version 1\.2\.4, a\.yml 1\.2\.3/,
    );
    assert.throws(
      () => mergeUpdateInfo([{ name: 'c.yml', text: 'hello' }]),
      /not electron-builder/,
    );
  });
});
