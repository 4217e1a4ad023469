// Network namespaces as "hosts" for scale-out tests: each gets a veth into one bridge on a
// private /24 the harness makes (10.77.0.0/24 unless taken) and removes again. Linux, root only.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface NetnsHost {
  readonly name: string;
  /** The host's address on the test network, e.g. 10.77.0.1. */
  readonly address: string;
}

export interface NetnsNetwork {
  readonly hosts: readonly NetnsHost[];
  /** The test process's own address on the bridge: it reaches every host from outside. */
  readonly gateway: string;
  /** Removes the namespaces, veths and the bridge (idempotent; never throws). */
  remove(): Promise<void>;
}

const ip = (...args: string[]) => run('ip', args, { timeout: 10_000 });

/** Null when `ip netns` works here (a trial namespace is made and removed), else why not. */
export async function netnsUnavailable(): Promise<string | null> {
  if (process.platform !== 'linux') return 'network namespaces exist on Linux only';
  const probe = `tdprobe${process.pid}`;
  try {
    await ip('netns', 'add', probe);
  } catch (err) {
    const message = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    return `"ip netns add" is not allowed here (${message}); it needs root and iproute2`;
  }
  await ip('netns', 'del', probe).catch(() => {});
  return null;
}

/** The first 10.77.x.0/24 … 10.79.x.0/24 no route of this machine uses. */
async function freeSubnet(): Promise<string> {
  const { stdout } = await ip('-4', 'route', 'show', 'table', 'all');
  for (let second = 77; second <= 79; second++) {
    for (let third = 0; third < 256; third++) {
      const prefix = `10.${second}.${third}.`;
      if (!stdout.includes(prefix) && !stdout.includes(`10.${second}.0.0/16`)) return prefix;
    }
  }
  throw new Error('no free 10.77-79.x.0/24 subnet for the test network');
}

/**
 * Namespaces `<tag><name>` joined by a bridge: host i gets `<subnet>.<i+1>`, the test process
 * `<subnet>.254` on the bridge. Loopback is up in each (a supervisor checks its backend there).
 */
export async function createNetwork(names: readonly string[]): Promise<NetnsNetwork> {
  const tag = `td${process.pid % 100_000}`;
  const bridge = `${tag}br`;
  const subnet = await freeSubnet();
  const hosts = names.map((name, i) => ({ name: `${tag}${name}`, address: `${subnet}${i + 1}` }));
  const made = { bridge: false, namespaces: [] as string[], veths: [] as string[] };
  const remove = async () => {
    for (const veth of made.veths) await ip('link', 'del', veth).catch(() => {});
    for (const ns of made.namespaces) await ip('netns', 'del', ns).catch(() => {});
    if (made.bridge) await ip('link', 'del', bridge).catch(() => {});
    made.veths = [];
    made.namespaces = [];
    made.bridge = false;
  };
  try {
    await ip('link', 'add', bridge, 'type', 'bridge');
    made.bridge = true;
    await ip('addr', 'add', `${subnet}254/24`, 'dev', bridge);
    await ip('link', 'set', bridge, 'up');
    for (const [i, host] of hosts.entries()) {
      const outer = `${tag}v${i}`;
      const inner = `${tag}p${i}`;
      await ip('netns', 'add', host.name);
      made.namespaces.push(host.name);
      await ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
      made.veths.push(outer);
      await ip('link', 'set', inner, 'netns', host.name);
      await ip('link', 'set', outer, 'master', bridge);
      await ip('link', 'set', outer, 'up');
      const inside = (...args: string[]) => ip('-n', host.name, ...args);
      await inside('addr', 'add', `${host.address}/24`, 'dev', inner);
      await inside('link', 'set', inner, 'up');
      await inside('link', 'set', 'lo', 'up');
    }
  } catch (err) {
    await remove();
    throw err;
  }
  return { hosts, gateway: `${subnet}254`, remove };
}

/**
 * `command` inside the host's namespace. `ip netns exec` execs it in place, so the returned
 * child's pid is the command's own: stop it by that pid. Secrets go in `env`, never in args.
 */
export function spawnIn(
  host: NetnsHost,
  command: string,
  args: readonly string[],
  options: { env: Record<string, string>; cwd: string },
) {
  return spawn('ip', ['netns', 'exec', host.name, command, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
