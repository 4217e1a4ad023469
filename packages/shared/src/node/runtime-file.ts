import { readFileSync, rmSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { StoreInfo } from '../contract/system.ts';
import { isAlive, processStartTime } from './processes.ts';

const Pid = Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]);

/** The process that wrote runtime.json; the file describes a live stack only while it runs. */
export const RuntimeSupervisor = Type.Object({
  pid: Type.Integer({ minimum: 1 }),
  /** Its start time where the OS tells (Linux), so a reused pid does not pass for it. */
  startTime: Type.Union([Type.String(), Type.Null()]),
});
export type RuntimeSupervisor = Static<typeof RuntimeSupervisor>;

/**
 * `<dataDir>/runtime.json` (docs/desktop.md): how to reach the running Taskdock. The supervisor
 * writes it; the CLI, scripts and tests read it. Readers ignore fields they do not know.
 */
export const RuntimeInfo = Type.Object({
  apiUrl: Type.String(),
  token: Type.String(),
  /** Where tasks live and why. */
  store: StoreInfo,
  /** Null in memory mode: there is no Redis. */
  redis: Type.Union([Type.Object({ url: Type.String() }), Type.Null()]),
  pids: Type.Object({ redis: Pid, worker: Pid, backend: Pid }),
  uiUrl: Type.String(),
  supervisor: RuntimeSupervisor,
});
export type RuntimeInfo = Static<typeof RuntimeInfo>;

export function runtimeSupervisor(pid: number): RuntimeSupervisor {
  return { pid, startTime: processStartTime(pid) };
}

/** Written atomically (temp file + rename) with mode 0600: it holds the token and Redis password. */
export async function writeRuntimeFile(file: string, info: RuntimeInfo): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, file);
}

export async function removeRuntimeFile(file: string): Promise<void> {
  await rm(file, { force: true });
}

/** The parsed file when it has runtime.json's shape, else undefined (garbled, or not ours). */
function parseRuntime(text: string): RuntimeInfo | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return Value.Check(RuntimeInfo, value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** runtime.json as written, or undefined when there is none (or it is not of this shape). */
export async function readRuntimeFile(file: string): Promise<RuntimeInfo | undefined> {
  try {
    return parseRuntime(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Whether the stack the file describes still runs: its supervisor is alive (and, where the OS
 * tells, is the same process, not a reused pid). A file from a killed run, or one written by a
 * version without `supervisor`, is stale: its port and password are dead.
 */
export function isRuntimeCurrent(info: Pick<RuntimeInfo, 'supervisor'>): boolean {
  const supervisor = (info as Partial<RuntimeInfo> | null)?.supervisor as
    | Partial<RuntimeSupervisor>
    | undefined;
  if (typeof supervisor?.pid !== 'number' || !isAlive(supervisor.pid)) return false;
  return supervisor.startTime == null || processStartTime(supervisor.pid) === supervisor.startTime;
}

/**
 * At start, before anything else and synchronously (so no reader sees it once start() was
 * called): removes a runtime.json that is stale or was written by this very supervisor. One of
 * another live supervisor stays; the data-dir lock then refuses to start a second stack.
 */
export function removeStaleRuntimeFileSync(file: string, supervisorPid: number): void {
  let info: RuntimeInfo | undefined;
  try {
    info = parseRuntime(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    // Unreadable: nobody can use it.
  }
  if (info && isRuntimeCurrent(info) && info.supervisor.pid !== supervisorPid) return;
  try {
    rmSync(file, { force: true });
  } catch {
    // The data dir is not writable: prepareDataDir reports that next.
  }
}
