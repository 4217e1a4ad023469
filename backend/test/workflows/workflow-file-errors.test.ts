import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type LoadedFile, loadWorkflowFile } from '../../src/workflows/workflow-files.ts';

/** What a user sees when a file is wrong: the field, the line, and words that say the fix. */
describe('workflow file errors', () => {
  let dir: string;
  const load = async (name: string, content: string | object): Promise<LoadedFile> => {
    const file = path.join(dir, name);
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return loadWorkflowFile(file, { baseEnv: {}, processGroups: undefined });
  };
  const errorOf = (loaded: LoadedFile) => {
    assert.ok('error' in loaded, 'the file did not load');
    return loaded.error;
  };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-workflow-errors-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a misspelt field is named, with its line', async () => {
    const error = errorOf(await load('typo.json', { name: 'typo', comand: 'echo' }));
    // Ajv reports the missing `command` or the extra `comand`: either names the fix.
    assert.match(error.field ?? '', /^\/(comand|command)$/);
    assert.ok(error.message.length > 0);
  });

  test('a union says what it allows, not "must be equal to constant"', async () => {
    const error = errorOf(await load('result.json', { name: 'r', command: 'x', result: 'nope' }));
    assert.equal(error.field, '/result');
    assert.equal(error.message, 'must be "stdout", "json" or { "file": "<path>" }');
    assert.equal(error.line, 4);
  });

  test('an env name with "=" is refused at its field', async () => {
    const error = errorOf(await load('env.json', { name: 'e', command: 'x', env: { 'A=B': '1' } }));
    assert.equal(error.field, '/env/A=B');
  });

  test('a bad name says what a name may be', async () => {
    const error = errorOf(await load('name.json', { name: 'has space', command: 'x' }));
    assert.equal(error.field, '/name');
    assert.match(error.message, /letters, digits/);
  });

  test('a code module without run, or that throws at load, says so with the line', async () => {
    const noRun = errorOf(
      await load('norun.mjs', 'export default { name: "n", paramsSchema: { type: "object" } };'),
    );
    assert.equal(noRun.field, '/run');
    const throws = errorOf(
      await load('throws.mjs', 'const a = 1;\n\nthrow new Error("nope " + a);\n'),
    );
    assert.equal(throws.line, 3);
    assert.equal(throws.message, 'Error: nope 1');
  });

  test('an edited CommonJS module is loaded again, not served from the require cache', async () => {
    const module = (n: number) =>
      `module.exports = { name: 'cjs', description: 'v${n}', paramsSchema: { type: 'object' }, run: async () => ${n} };`;
    const first = await load('cjs.js', module(1));
    const second = await load('cjs.js', module(2));
    assert.ok('workflow' in first && 'workflow' in second);
    assert.equal(first.workflow.description, 'v1');
    assert.equal(second.workflow.description, 'v2');
  });
});
