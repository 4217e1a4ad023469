import os from 'node:os';
import { processStartTime } from '@taskdock/shared/node/processes';
import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import type { Logger } from 'pino';
import { processGroupsKey } from '../tasks/keys.ts';
import { killProcessGroup, type ProcessGroupTracker } from '../workflows/task-process.ts';
import { isSameProcess, pidSpaceId } from './process-identity.ts';

/** What a worker records for each running task's process group (field: the pgid). */
export interface ProcessGroupRecord {
  readonly taskId: string;
  readonly host: string;
  /** The worker running the task, with its start time: a reused pid is not that worker. */
  readonly workerPid: number;
  readonly workerStartTime: string;
  /** The start time of the group's leader (the task's command), likewise. */
  readonly startTime: string;
}

export interface ProcessGroups extends ProcessGroupTracker {
  /**
   * Kills the groups whose worker is dead, recorded by workers in this pid space (this host or
   * container). The watcher of each task does this within moments of its worker's death; this
   * is the backstop for a group whose watcher could not act (e.g. the task killed it).
   */
  reapOrphans(): Promise<number>;
}

/** Records outlive their pid space only this long (after a reboot no worker reaps them). */
const RECORD_TTL_MS = 24 * 60 * 60_000;

/** The groups of this worker's tasks in Redis; a no-op where there is no /proc (not Linux). */
export function createProcessGroups({
  redis,
  logger,
}: {
  redis: RedisConnection;
  logger: Logger;
}): ProcessGroups {
  const pidSpace = pidSpaceId();
  const workerStartTime = processStartTime(process.pid);
  if (pidSpace === null || workerStartTime === null) {
    return { track: () => () => {}, reapOrphans: async () => 0 };
  }
  const key = processGroupsKey(pidSpace);
  const warn = (what: string) => (err: Error) => logger.warn({ err: err.message }, what);

  return {
    track(taskId, pgid) {
      const startTime = processStartTime(pgid);
      if (startTime === null) return () => {};
      const record: ProcessGroupRecord = {
        taskId,
        host: os.hostname(),
        workerPid: process.pid,
        workerStartTime,
        startTime,
      };
      redis
        .multi()
        .hset(key, String(pgid), JSON.stringify(record))
        .pexpire(key, RECORD_TTL_MS)
        .exec()
        .catch(warn('recording a process group failed'));
      return () => {
        redis.hdel(key, String(pgid)).catch(warn('forgetting a process group failed'));
      };
    },

    async reapOrphans() {
      const entries = await redis.hgetall(key);
      let killed = 0;
      for (const [field, value] of Object.entries(entries)) {
        const record = parseRecord(value);
        if (record && isSameProcess(record.workerPid, record.workerStartTime)) continue;
        const pgid = Number(field);
        // Only while its leader is the recorded process: a reused pid is someone else's.
        if (record && isSameProcess(pgid, record.startTime) && killProcessGroup(pgid)) {
          killed++;
          logger.warn(
            { taskId: record.taskId, pgid, deadWorkerPid: record.workerPid },
            'killed the processes of a task whose worker died',
          );
        }
        await redis.hdel(key, field);
      }
      if (Object.keys(entries).length > 0) await redis.pexpire(key, RECORD_TTL_MS);
      return killed;
    },
  };
}

function parseRecord(value: string): ProcessGroupRecord | null {
  try {
    const record = JSON.parse(value) as Partial<ProcessGroupRecord>;
    return typeof record.workerPid === 'number' &&
      typeof record.workerStartTime === 'string' &&
      typeof record.startTime === 'string' &&
      typeof record.taskId === 'string'
      ? (record as ProcessGroupRecord)
      : null;
  } catch {
    return null;
  }
}
