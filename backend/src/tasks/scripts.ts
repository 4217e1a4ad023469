import type { Redis } from 'ioredis';

// Lua run against BullMQ's own keys (`<prefix>:<queue>:wait|active|delayed|…`), so a state read
// or a cancel is one atomic step that no worker can interleave with.

/** For each job id: { state, flat HGETALL } with state one of BullMQ's, or 'missing'. */
const GET_JOBS = `
local base = KEYS[1]
local out = {}
for i, id in ipairs(ARGV) do
  local hash = redis.call('HGETALL', base .. id)
  local state = 'missing'
  if #hash > 0 then
    if redis.call('ZSCORE', base .. 'completed', id) then state = 'completed'
    elseif redis.call('ZSCORE', base .. 'failed', id) then state = 'failed'
    elseif redis.call('ZSCORE', base .. 'delayed', id) then state = 'delayed'
    elseif redis.call('ZSCORE', base .. 'prioritized', id) then state = 'prioritized'
    elseif redis.call('LPOS', base .. 'active', id) then state = 'active'
    elseif redis.call('LPOS', base .. 'wait', id) or redis.call('LPOS', base .. 'paused', id) then state = 'waiting'
    else state = 'unknown' end
  end
  out[i] = { state, hash }
end
return out
`;

/**
 * Moves a job that no worker holds (waiting, prioritized, delayed, paused) to failed with the
 * cancelled reason. Returns 1 when cancelled, 0 when no such list held it (active or finished).
 */
const CANCEL_QUEUED = `
local base, id, reason = KEYS[1], ARGV[1], ARGV[2]
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local prev = nil
if redis.call('LREM', base .. 'wait', 0, id) > 0 then prev = 'waiting'
elseif redis.call('LREM', base .. 'paused', 0, id) > 0 then prev = 'paused'
elseif redis.call('ZREM', base .. 'prioritized', id) > 0 then prev = 'prioritized'
elseif redis.call('ZREM', base .. 'delayed', id) > 0 then prev = 'delayed' end
if not prev then return 0 end
redis.call('ZADD', base .. 'failed', now, id)
redis.call('HSET', base .. id, 'failedReason', reason, 'finishedOn', now)
redis.call('XADD', base .. 'events', 'MAXLEN', '~', 10000, '*', 'event', 'failed', 'jobId', id,
  'failedReason', reason, 'prev', prev)
return 1
`;

/**
 * Takes one of an owner's slots for a task, or renews it. Slots are leases: a worker that dies
 * stops renewing, so its slots free themselves after `leaseMs`.
 * KEYS[1] slots set; ARGV member, max, leaseMs. Returns 1 when the slot is held.
 */
const ACQUIRE_SLOT = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], lease * 2)
  return 1
end
return 0
`;

export type RawJob = [state: string, hash: string[]];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    taskdockGetJobs(base: string, ...ids: string[]): Promise<RawJob[]>;
    taskdockCancelQueued(base: string, id: string, reason: string): Promise<number>;
    taskdockAcquireSlot(key: string, member: string, max: number, leaseMs: number): Promise<number>;
  }
}

const defined = new WeakSet<Redis>();

/** Registers Taskdock's scripts on a client (idempotent). */
export function defineScripts(redis: Redis): Redis {
  if (!defined.has(redis)) {
    defined.add(redis);
    redis.defineCommand('taskdockGetJobs', { numberOfKeys: 1, lua: GET_JOBS });
    redis.defineCommand('taskdockCancelQueued', { numberOfKeys: 1, lua: CANCEL_QUEUED });
    redis.defineCommand('taskdockAcquireSlot', { numberOfKeys: 1, lua: ACQUIRE_SLOT });
  }
  return redis;
}
