// .github/workflows/release.yml cannot run here: check its shape with a JSON schema of the
// workflow syntax it uses, then what it must do (every target, prepare:resources in each job,
// secrets only through env, least privilege).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { ROOT, TARGETS } from '../lib/redis-manifest.ts';

const FILE = path.join(ROOT, '.github', 'workflows', 'release.yml');

interface Step {
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  shell?: string;
}
interface Job {
  'runs-on': string;
  if?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  strategy?: { matrix: { include: Record<string, string>[] } };
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}

const scalarMap = {
  type: 'object',
  additionalProperties: { type: ['string', 'number', 'boolean'] },
};
const permissions = {
  type: 'object',
  additionalProperties: { enum: ['read', 'write', 'none'] },
};
const schema = {
  type: 'object',
  required: ['name', 'on', 'jobs'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    on: { type: 'object', minProperties: 1 },
    permissions,
    concurrency: {
      type: 'object',
      required: ['group'],
      properties: { group: { type: 'string' }, 'cancel-in-progress': { type: 'boolean' } },
      additionalProperties: false,
    },
    env: scalarMap,
    jobs: {
      type: 'object',
      minProperties: 1,
      additionalProperties: {
        type: 'object',
        required: ['runs-on', 'steps'],
        additionalProperties: false,
        properties: {
          name: { type: 'string' },
          'runs-on': { type: 'string' },
          if: { type: 'string' },
          needs: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
          permissions,
          'timeout-minutes': { type: 'number' },
          env: scalarMap,
          strategy: {
            type: 'object',
            additionalProperties: false,
            properties: {
              'fail-fast': { type: 'boolean' },
              'max-parallel': { type: 'number' },
              matrix: { type: 'object' },
            },
          },
          steps: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              additionalProperties: false,
              oneOf: [{ required: ['uses'] }, { required: ['run'] }],
              properties: {
                id: { type: 'string' },
                name: { type: 'string' },
                if: { type: 'string' },
                uses: { type: 'string', pattern: '^[\\w.-]+/[\\w./-]+@v\\d+$' },
                run: { type: 'string' },
                shell: { type: 'string' },
                with: scalarMap,
                env: scalarMap,
                'timeout-minutes': { type: 'number' },
                'continue-on-error': { type: 'boolean' },
                'working-directory': { type: 'string' },
              },
            },
          },
        },
      },
    },
  },
};

const text = readFileSync(FILE, 'utf8');
const workflow = parse(text) as Workflow;

describe('.github/workflows/release.yml', () => {
  it('is a workflow of the shape GitHub accepts', () => {
    const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
    const valid = ajv.validate(schema, workflow);
    assert.ok(valid, ajv.errorsText(ajv.errors, { separator: '\n' }));
  });

  const installers = workflow.jobs.installers;
  const matrix = installers?.strategy?.matrix.include ?? [];

  it('builds every target on its runner', () => {
    const runners = Object.fromEntries(matrix.map((m) => [m.target, m.os]));
    assert.deepEqual(runners, {
      'linux-x64': 'ubuntu-latest',
      'darwin-arm64': 'macos-latest',
      'darwin-x64': 'macos-latest',
      'win32-x64': 'windows-latest',
    });
    for (const m of matrix) {
      assert.ok(
        (TARGETS as readonly string[]).includes(m.target ?? ''),
        `${m.target} has a manifest`,
      );
      assert.equal(m.target, `${m.target?.split('-')[0]}-${m.arch}`, 'arch matches the target');
    }
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression
    assert.equal(installers?.['runs-on'], '${{ matrix.os }}');
  });

  it('runs prepare:resources for the matrix target on every OS, before the installers', () => {
    const steps = installers?.steps ?? [];
    const prepare = steps.filter((s) => s.run?.includes('npm run prepare:resources'));
    assert.deepEqual(
      prepare.map((s) => s.if),
      ["runner.os == 'Windows'", "runner.os != 'Windows'"],
      'one step for Windows (MSYS2), one for the rest',
    );
    for (const s of prepare) assert.match(s.run ?? '', /--target \$\{\{ matrix\.target \}\}/);
    const dist = steps.findIndex((s) => s.run?.includes('scripts/dist.ts'));
    assert.ok(dist > steps.indexOf(prepare[1] as Step), 'installers after the server is built');
    assert.match(steps[dist]?.run ?? '', /--arch \$\{\{ matrix\.arch \}\}/);
  });

  it('uploads what electron-updater reads with the installers, for this repository', () => {
    const steps = installers?.steps ?? [];
    const dist = steps.find((s) => s.run?.includes('scripts/dist.ts'));
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression
    assert.equal(dist?.env?.TASKDOCK_PUBLISH_REPOSITORY, '${{ github.repository }}');
    const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact'));
    const paths = String(upload?.with?.path ?? '').split('\n');
    for (const wanted of ['release/*.zip', 'release/latest*.yml', 'release/*.blockmap']) {
      assert.ok(paths.includes(wanted), `the artifact holds ${wanted}`);
    }
    const draft = workflow.jobs['draft-release']?.steps ?? [];
    const merge = draft.find((s) => s.run?.includes('scripts/merge-update-info.ts'));
    assert.match(merge?.run ?? '', /darwin-arm64\/release\/latest-mac\.yml/);
    assert.match(merge?.run ?? '', /darwin-x64\/release\/latest-mac\.yml/);
    const create = draft.find((s) => s.run?.includes('gh release create'));
    assert.match(create?.run ?? '', /\{dmg,zip,exe,AppImage,deb,blockmap\}/);
    assert.match(create?.run ?? '', /upload\/\*/);
  });

  it('uses only known contexts and matrix keys in expressions', () => {
    const keys = new Set(matrix.flatMap((m) => Object.keys(m)));
    for (const [, expr] of text.matchAll(/\$\{\{\s*(.*?)\s*\}\}/g)) {
      for (const [ref] of (expr ?? '').matchAll(/\b[a-z]+\.[\w-]+/g)) {
        const [ctx, key] = ref.split('.') as [string, string];
        assert.ok(['matrix', 'secrets', 'runner', 'github', 'env'].includes(ctx), `context ${ref}`);
        if (ctx === 'matrix') assert.ok(keys.has(key), `matrix.${key} is not in the matrix`);
      }
    }
  });

  it('passes secrets through env only, and writes only where it must', () => {
    for (const job of Object.values(workflow.jobs)) {
      for (const step of job.steps) {
        assert.doesNotMatch(
          step.run ?? '',
          /secrets\./,
          `secret interpolated into a script: ${step.name}`,
        );
      }
    }
    assert.deepEqual(workflow.permissions, { contents: 'read' });
    const writers = Object.entries(workflow.jobs).filter(
      ([, j]) => j.permissions?.contents === 'write',
    );
    assert.deepEqual(
      writers.map(([name]) => name),
      ['draft-release'],
    );
    assert.match(workflow.jobs['draft-release']?.if ?? '', /refs\/tags\/v/);
  });
});
