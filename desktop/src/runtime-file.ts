import { readFileSync, rmSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { StoreInfo } from '@taskdock/shared/contract';
import { isAlive, processStartTime } from './supervisor/process-tree.ts';

/** The process that wrote runtime.json; the file describes a live stack only while it runs. */
export interface RuntimeSupervisor {
  readonly pid: number;
  /** Its start time where the OS tells (Linux), so a reused pid does not pass for it. */
  readonly startTime: string | null;
}

/** `<dataDir>/runtime.json` (docs/desktop.md): how to reach the running Taskdock. */
export interface RuntimeInfo {
  readonly apiUrl: string;
  readonly token: string;
  /** Where tasks live and why. */
  readonly store: StoreInfo;
  /** Null in memory mode: there is no Redis. */
  readonly redis: { readonly url: string } | null;
  readonly pids: {
    readonly redis: number | null;
    readonly worker: number | null;
    readonly backend: number | null;
  };
  readonly uiUrl: string;
  readonly supervisor: RuntimeSupervisor;
}

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

/** runtime.json as written, or undefined when there is none (or it is not ours to parse). */
export async function readRuntimeFile(file: string): Promise<RuntimeInfo | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as RuntimeInfo;
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
    info = JSON.parse(readFileSync(file, 'utf8')) as RuntimeInfo;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    // Unreadable or half-written: nobody can use it.
  }
  if (info && isRuntimeCurrent(info) && info.supervisor.pid !== supervisorPid) return;
  try {
    rmSync(file, { force: true });
  } catch {
    // The data dir is not writable: prepareDataDir reports that next.
  }
}
