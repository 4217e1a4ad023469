import type { Command } from 'commander';
import { action, type CliContext } from '../cli-context.ts';
import { EXIT } from '../exit-codes.ts';
import { table } from '../output.ts';

const example = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;

export function registerWorkerTokenCommands(
  program: Command,
  ctx: CliContext,
  exit: { code: number },
): void {
  const tokens = program
    .command('worker-tokens')
    .description('Tokens for remote workers: create, list, revoke (main token only)')
    .addHelpText(
      'after',
      example(
        "taskdock worker-tokens create render-box --workflows 'render*'",
        'taskdock worker-tokens list',
      ),
    );

  tokens
    .command('create')
    .description('Create a worker token; it is printed once, keep it')
    .argument('<name>', 'what the token is for, e.g. render-box-2')
    .option('--workflows <globs>', 'comma-separated workflows or globs it may serve (default all)')
    .addHelpText('after', example("taskdock worker-tokens create render-box --workflows 'render*'"))
    .action(
      action(ctx, exit, async (session, name: string, options: { workflows?: string }) => {
        const workflows = options.workflows
          ?.split(',')
          .map((g) => g.trim())
          .filter(Boolean);
        const created = await (await session.api()).createWorkerToken({
          name,
          ...(workflows === undefined ? {} : { workflows }),
        });
        session.out.value(created, () => created.token);
        session.out.note(
          `token ${created.id} (${created.name}) for ${created.workflows.join(', ')}: shown only now`,
        );
        return EXIT.ok;
      }),
    );

  tokens
    .command('list', { isDefault: true })
    .description('List worker tokens (never the tokens themselves)')
    .addHelpText('after', example('taskdock worker-tokens list'))
    .action(
      action(ctx, exit, async (session) => {
        const list = await (await session.api()).listWorkerTokens();
        session.out.list(list.items, list, () =>
          list.items.length === 0
            ? session.out.colors.dim('no worker tokens')
            : table(
                ['ID', 'NAME', 'WORKFLOWS', 'CREATED', 'LAST USED'],
                list.items.map((t) => [
                  t.id,
                  t.name,
                  t.workflows.join(','),
                  t.createdAt,
                  t.lastUsedAt ?? '-',
                ]),
              ),
        );
        return EXIT.ok;
      }),
    );

  tokens
    .command('revoke')
    .description('Revoke a worker token; its workers are refused at once')
    .argument('<id>', 'token id (see list)')
    .addHelpText('after', example('taskdock worker-tokens revoke 9f2c1a'))
    .action(
      action(ctx, exit, async (session, id: string) => {
        await (await session.api()).revokeWorkerToken(id);
        session.out.value({ id, revoked: true }, () => `revoked ${id}`);
        return EXIT.ok;
      }),
    );
}
