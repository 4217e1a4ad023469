import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  ELECTRON_NODE_TARGET,
  ENGINES_NODE_TARGET,
  ENTRIES,
  engineTarget,
  escapeNonAscii,
  optionsFor,
} from '../lib/bundles.ts';
import { ROOT } from '../lib/redis-manifest.ts';

describe('bundle targets', () => {
  it('the Electron main bundle targets Electron’s Node; the plain-Node ones the engines minimum', () => {
    for (const entry of ENTRIES) {
      const expected =
        entry.runtime === 'electron-main' ? ELECTRON_NODE_TARGET : ENGINES_NODE_TARGET;
      assert.equal(optionsFor(entry).target, expected, entry.source);
    }
    const { engines } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    assert.equal(ENGINES_NODE_TARGET, engineTarget(engines.node));
  });

  it('every workspace states the same Node range as the root', () => {
    const root = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
      workspaces: string[];
    };
    for (const workspace of root.workspaces) {
      const pkg = JSON.parse(readFileSync(path.join(ROOT, workspace, 'package.json'), 'utf8')) as {
        engines?: { node?: string };
      };
      assert.equal(pkg.engines?.node, root.engines.node, `${workspace}/package.json engines.node`);
    }
  });

  it('engines.node must be a plain lower bound', () => {
    assert.equal(engineTarget('>=22.12'), 'node22.12');
    assert.equal(engineTarget('>= 24'), 'node24');
    assert.throws(() => engineTarget('^22 || >=24'), /plain ">=X.Y" range/);
  });

  it('escapeNonAscii (every bundle goes through it) leaves ASCII that means the same', () => {
    const code = [
      '// a comment with an em dash — and 漢字',
      "const s = 'é漢😀';",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the code under test has a template
      'const t = `😀${s}`;',
      'const r = /[—😀]/.test("😀");',
      'return [s, t, r, s.length];',
    ].join('\n');
    const escaped = escapeNonAscii(code);
    assert.ok(
      [...escaped].every((char) => char.charCodeAt(0) < 0x80),
      escaped,
    );
    assert.deepEqual(new Function(escaped)(), new Function(code)());
    assert.deepEqual(new Function(escaped)(), ['é漢😀', '😀é漢😀', true, 4]);
  });
});
