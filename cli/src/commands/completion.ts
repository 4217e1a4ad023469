import { Argument, type Command, type Option } from 'commander';
import { action, type CliContext } from '../cli-context.ts';
import { EXIT } from '../exit-codes.ts';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** What can follow a command path: its subcommands and options, and values of choice options. */
interface Spot {
  /** `run`, `schedules add` ('' for the top level). */
  readonly path: string;
  readonly subcommands: readonly { name: string; description: string }[];
  readonly options: readonly { flag: string; description: string; choices?: readonly string[] }[];
}

/** Every command path of the program with what may follow it, read from the program itself. */
function spots(program: Command): Spot[] {
  const globals = program.options.map(optionInfo);
  const walk = (command: Command, path: string): Spot[] => {
    const own = command === program ? [] : command.options.map(optionInfo);
    const spot: Spot = {
      path,
      subcommands: command.commands.map((c) => ({ name: c.name(), description: c.description() })),
      options: [...own, ...globals, { flag: '--help', description: 'show help' }],
    };
    return [
      spot,
      ...command.commands.flatMap((c) => walk(c, path === '' ? c.name() : `${path} ${c.name()}`)),
    ];
  };
  return walk(program, '');
}

const optionInfo = (option: Option) => ({
  flag: option.long ?? option.short ?? option.flags,
  description: option.description,
  ...(option.argChoices ? { choices: option.argChoices } : {}),
});

const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

/** `path:flag` → the values of that option there (`retry:--status` → failed cancelled). */
const choiceCases = (all: Spot[]): [string, string][] =>
  all.flatMap((spot) =>
    spot.options.flatMap((option) =>
      option.choices ? [[`${spot.path}:${option.flag}`, option.choices.join(' ')]] : [],
    ),
  ) as [string, string][];

const wordsOf = (spot: Spot) =>
  [...spot.subcommands.map((s) => s.name), ...spot.options.map((o) => o.flag)].join(' ');

/** The path of command words typed so far (options skipped), shared by bash and zsh. */
const PATH_SCAN = `local path="" w
  for w in "\${typed[@]:1:$((cword - 1))}"; do
    case "$w" in
      -*) ;;
      *) case "$known" in *"|\${path:+$path }$w|"*) path="\${path:+$path }$w" ;; esac ;;
    esac
  done`;

function posixScript(program: Command, shell: 'bash' | 'zsh'): string {
  const all = spots(program);
  const known = `|${all
    .map((s) => s.path)
    .filter((p) => p !== '')
    .join('|')}|`;
  const cases = all.map((s) => `    ${quote(s.path)}) list=${quote(wordsOf(s))} ;;`).join('\n');
  const choices = choiceCases(all)
    .map(([key, values]) => `    ${quote(key)}) list=${quote(values)} ;;`)
    .join('\n');
  const body = `  local known=${quote(known)} list=""
  ${PATH_SCAN}
  case "$path" in
${cases}
  esac
  case "$path:$prev" in
${choices}
  esac`;
  if (shell === 'bash') {
    return `# taskdock completion for bash: eval "$(taskdock completion bash)" in ~/.bashrc
_taskdock() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cword=$COMP_CWORD
  local -a typed=("\${COMP_WORDS[@]}")
${body}
  COMPREPLY=($(compgen -W "$list" -- "$cur"))
}
complete -F _taskdock taskdock
`;
  }
  return `#compdef taskdock
# taskdock completion for zsh: eval "$(taskdock completion zsh)" in ~/.zshrc (after compinit)
_taskdock() {
  local cword=$((CURRENT - 1)) prev="\${words[CURRENT-1]}"
  local -a typed=("\${(@)words[1,CURRENT]}")
  setopt localoptions ksharrays
${body}
  compadd -- \${=list}
}
compdef _taskdock taskdock
`;
}

function fishScript(program: Command): string {
  const lines = [
    '# taskdock completion for fish: taskdock completion fish | source',
    'complete -c taskdock -f',
  ];
  for (const spot of spots(program)) {
    const words = spot.path === '' ? [] : spot.path.split(' ');
    const here =
      words.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${words.at(-1)}`;
    for (const sub of spot.subcommands) {
      lines.push(
        `complete -c taskdock -n ${quote(here)} -a ${sub.name} -d ${quote(sub.description)}`,
      );
    }
    if (words.length === 0) continue;
    for (const option of spot.options) {
      if (!option.flag.startsWith('--')) continue;
      const values = option.choices ? ` -r -a ${quote(option.choices.join(' '))}` : '';
      lines.push(
        `complete -c taskdock -n ${quote(here)} -l ${option.flag.slice(2)}${values} -d ${quote(option.description)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function completionScript(program: Command, shell: Shell): string {
  return shell === 'fish' ? fishScript(program) : posixScript(program, shell);
}

export function registerCompletion(
  program: Command,
  ctx: CliContext,
  exit: { code: number },
): void {
  program
    .command('completion')
    .description('Print the shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .addHelpText(
      'after',
      `
Examples:
  $ eval "$(taskdock completion bash)"     # in ~/.bashrc
  $ eval "$(taskdock completion zsh)"      # in ~/.zshrc, after compinit
  $ taskdock completion fish > ~/.config/fish/completions/taskdock.fish`,
    )
    .action(
      action(ctx, exit, async (session, shell: Shell) => {
        session.ctx.io.stdout.write(completionScript(program, shell));
        return EXIT.ok;
      }),
    );
}
