import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { trackResources } from '@taskdock/desktop/test/helpers/process.ts';
import { taskdock } from './helpers/taskdock.ts';

const resources = trackResources();

/** What bash offers after `words` (the last one being completed), with the real script. */
function bashComplete(script: string, words: string[]): string[] {
  const line = ['taskdock', ...words];
  const program = `${script}
COMP_WORDS=(${line.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${line.length - 1}
_taskdock; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const run = spawnSync('bash', ['--norc', '-c', program], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.split('\n').filter(Boolean);
}

test('completion bash: commands, their options and option values, from the real program', async () => {
  const run = await taskdock(['completion', 'bash'], { dataDir: await resources.dataDir() });
  assert.equal(run.code, 0, run.stderr);
  const script = run.stdout;
  assert.deepEqual(bashComplete(script, ['re']), ['retry']);
  assert.ok(bashComplete(script, ['run', 'sleep', '--fo']).includes('--follow'));
  assert.deepEqual(bashComplete(script, ['retry', '--status', '']), ['failed', 'cancelled']);
  assert.deepEqual(bashComplete(script, ['schedules', 'a']), ['add']);
  assert.ok(bashComplete(script, ['schedules', 'add', '--t']).includes('--tz'));
  assert.deepEqual(bashComplete(script, ['list', '--output', 'js']), ['json', 'jsonl']);
});

test('completion zsh and fish name every command; an unknown shell is a usage error', async () => {
  const dataDir = await resources.dataDir();
  const zsh = await taskdock(['completion', 'zsh'], { dataDir });
  assert.equal(zsh.code, 0);
  assert.match(zsh.stdout, /^#compdef taskdock/);
  assert.match(zsh.stdout, /compdef _taskdock taskdock/);
  const fish = await taskdock(['completion', 'fish'], { dataDir });
  assert.equal(fish.code, 0);
  assert.match(fish.stdout, /complete -c taskdock -n '__fish_use_subcommand' -a work /);
  assert.match(fish.stdout, /-n '__fish_seen_subcommand_from run' -l follow /);
  const bad = await taskdock(['completion', 'tcsh'], { dataDir });
  assert.equal(bad.code, 3);
  assert.match(bad.stderr, /Allowed choices are bash, zsh, fish/);
});

test('--help of every command shows an example and the global options', async () => {
  const dataDir = await resources.dataDir();
  const commands = [
    ...['run', 'get', 'list', 'cancel', 'retry', 'logs', 'delete', 'stats', 'workers'],
    ...['services', 'workflows', 'work', 'completion', 'schedules', 'schedules list'],
    ...['schedules add', 'schedules rm', 'worker-tokens create', 'worker-tokens list'],
    'worker-tokens revoke',
  ];
  for (const command of commands) {
    const run = await taskdock([...command.split(' '), '--help'], { dataDir });
    assert.equal(run.code, 0, command);
    assert.match(run.stdout, /Examples?:\n\s+\$ /, `${command} --help has an example`);
    assert.match(run.stdout, /--output <mode>/, `${command} --help lists --output`);
  }
});
