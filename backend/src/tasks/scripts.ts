import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import { RELAY_STEP } from './relay-step-script.ts';

// Lua keeps each step atomic and one round trip. (Not MULTI: ioredis copies every script defined
// on a client into each pipeline, and BullMQ defines dozens on the clients we share with it.)
// Lua run against BullMQ's own keys (`<prefix>:<queue>:wait|active|delayed|…`), so a state read
// or a cancel is one atomic step that no worker can interleave with.
// Each script's KEYS[1] is a key or the start of the keys it builds (a queue's base, the prefix):
// on a Cluster the client routes the script by it, and every key under the `{taskdock}` hash tag
// lives in that one slot (keys.ts `useKeyPrefix`).

/**
 * For each job id: { state, flat HGETALL } with state one of BullMQ's, or 'missing'.
 * ARGV[1] '1' reads the job's result too; '0' leaves its `returnvalue` field in Redis (lists:
 * a big result costs them nothing). ARGV[2..] job ids.
 */
const GET_JOBS = `
local base, withResult = KEYS[1], ARGV[1] == '1'
local out = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local hash
  if withResult then
    hash = redis.call('HGETALL', base .. id)
  else
    hash = {}
    local fields = redis.call('HKEYS', base .. id)
    for k = #fields, 1, -1 do
      if fields[k] == 'returnvalue' then table.remove(fields, k) end
    end
    if #fields > 0 then
      local values = redis.call('HMGET', base .. id, unpack(fields))
      for k, field in ipairs(fields) do
        hash[#hash + 1] = field
        hash[#hash + 1] = values[k]
      end
    end
  end
  local state = 'missing'
  if #hash > 0 then
    if redis.call('ZSCORE', base .. 'completed', id) then state = 'completed'
    elseif redis.call('ZSCORE', base .. 'failed', id) then state = 'failed'
    elseif redis.call('ZSCORE', base .. 'delayed', id) then state = 'delayed'
    elseif redis.call('ZSCORE', base .. 'prioritized', id) then state = 'prioritized'
    elseif redis.call('LPOS', base .. 'active', id) then state = 'active'
    -- Not scanning the wait list (it may hold 100,000s): a job in no other set is waiting.
    else state = 'waiting' end
  end
  out[i - 1] = { state, hash }
end
return out
`;

/**
 * Moves a job that no worker holds (waiting, prioritized, delayed, paused) to failed with the
 * cancelled reason. Returns 1 when cancelled, 0 when no such list held it (active or finished).
 */
const CANCEL_QUEUED = `
local base, id, reason, maxLen = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
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
redis.call('XADD', base .. 'events', 'MAXLEN', '~', maxLen, '*', 'event', 'failed', 'jobId', id,
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

/**
 * A task's index entries, written before its job is added. KEYS[1] prefix; ARGV taskId, workflow,
 * status, createdAt, owner ('' for none), source ('' for none), id index member.
 */
const INDEX_NEW_TASK = `
local prefix = KEYS[1]
local id, wf, status, score, owner, source, lex = unpack(ARGV)
redis.call('ZADD', prefix .. ':index:tasks', score, id)
redis.call('ZADD', prefix .. ':index:ids', 0, lex)
redis.call('ZADD', prefix .. ':index:workflow:' .. wf, score, id)
-- Only when the relay has not indexed the task yet (it may be quicker than this script).
if redis.call('HSETNX', prefix .. ':index:status-of', id, status) == 1 then
  redis.call('ZADD', prefix .. ':index:status:' .. status, score, id)
  redis.call('ZADD', prefix .. ':index:status:' .. status .. ':' .. wf, score, id)
end
redis.call('SADD', prefix .. ':queues', wf)
if owner ~= '' then
  redis.call('ZADD', prefix .. ':index:owner:' .. owner, score, id)
  redis.call('SADD', prefix .. ':owners', owner)
end
if source ~= '' then
  redis.call('ZADD', prefix .. ':index:source:' .. source, score, id)
  redis.call('SADD', prefix .. ':sources', source)
end
return 1
`;

/**
 * A worker starting a task: 1 when it was cancelled meanwhile; else records the "started" event
 * for the event relay and returns 0. KEYS cancel key, queue events stream; ARGV job id, maxLen,
 * event name.
 */
const START_TASK = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'event', ARGV[3], 'jobId', ARGV[1])
return 0
`;

/**
 * Puts tasks back into every index they belong in, as the reconcile pass read them from BullMQ.
 * KEYS[1] prefix, ARGV[1] events maxLen, ARGV[2] JSON [{ id, wf, st, score, owner?, source?,
 * lex, data }]: `data` is the TaskEvent sent when the status was wrong. A task whose job is gone
 * (`st` absent) leaves the indexes. Returns { entries added back, statuses corrected, removed }.
 */
const REPAIR_INDEXES = `
local prefix, maxLen = KEYS[1], ARGV[1]
local entries = cjson.decode(ARGV[2])
local statusOf = prefix .. ':index:status-of'
local statuses = { 'queued', 'scheduled', 'running', 'completed', 'failed', 'cancelled' }
local function statusKey(s, wf)
  if wf then return prefix .. ':index:status:' .. s .. ':' .. wf end
  return prefix .. ':index:status:' .. s
end
local added, corrected, removed = 0, 0, 0
for _, e in ipairs(entries) do
  local id, wf = e.id, e.wf
  local old = redis.call('HGET', statusOf, id)
  if not e.st then
    -- Gone when BullMQ's sets were read; a job that moved between them meanwhile is still here.
    if redis.call('EXISTS', prefix .. ':' .. id) == 0 then
      removed = removed + redis.call('ZREM', prefix .. ':index:tasks', id)
      redis.call('ZREM', prefix .. ':index:ids', e.lex)
      redis.call('ZREM', prefix .. ':index:workflow:' .. wf, id)
      if old then
        redis.call('ZREM', statusKey(old), id)
        redis.call('ZREM', statusKey(old, wf), id)
        redis.call('HDEL', statusOf, id)
      end
    end
  else
    local n = redis.call('ZADD', prefix .. ':index:tasks', e.score, id)
      + redis.call('ZADD', prefix .. ':index:ids', 0, e.lex)
      + redis.call('ZADD', prefix .. ':index:workflow:' .. wf, e.score, id)
      + redis.call('ZADD', statusKey(e.st), e.score, id)
      + redis.call('ZADD', statusKey(e.st, wf), e.score, id)
    if e.owner then
      n = n + redis.call('ZADD', prefix .. ':index:owner:' .. e.owner, e.score, id)
      redis.call('SADD', prefix .. ':owners', e.owner)
    end
    if e.source then
      n = n + redis.call('ZADD', prefix .. ':index:source:' .. e.source, e.score, id)
      redis.call('SADD', prefix .. ':sources', e.source)
    end
    if old ~= e.st then
      -- Without a known old status, any other status index may still hold it.
      for _, s in ipairs(statuses) do
        if s ~= e.st and (not old or s == old) then
          redis.call('ZREM', statusKey(s), id)
          redis.call('ZREM', statusKey(s, wf), id)
        end
      end
      redis.call('HSET', statusOf, id, e.st)
      if old then
        corrected = corrected + 1
        redis.call('XADD', prefix .. ':events', 'MAXLEN', '~', maxLen, '*',
          'type', e.st, 'taskId', id, 'data', e.data)
      end
    end
    if n > 0 then added = added + 1 end
  end
end
return { added, corrected, removed }
`;

/** Appends log lines and keeps the newest ARGV[1]. KEYS log list; ARGV keep, lines… */
const APPEND_LOGS = `
redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[1]), -1)
return 1
`;

export type RawJob = [state: string, hash: string[]];
/** relay-step-script.ts's reply: events read, [queue, position]…, [workflow, outcome, ms]… */
export type RelayStepReply = [read: number, positions: string[], finished: (string | number)[]];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    taskdockGetJobs(base: string, withResult: '1' | '0', ...ids: string[]): Promise<RawJob[]>;
    taskdockCancelQueued(base: string, id: string, reason: string, maxLen: number): Promise<number>;
    taskdockAcquireSlot(key: string, member: string, max: number, leaseMs: number): Promise<number>;
    taskdockRelayStep(
      prefix: string,
      relayId: string,
      lockMs: number,
      budget: number,
      maxLen: number,
      ...queues: string[]
    ): Promise<RelayStepReply | [-1]>;
    taskdockIndexNewTask(
      prefix: string,
      taskId: string,
      workflow: string,
      status: string,
      createdAt: number,
      owner: string,
      source: string,
      idMember: string,
    ): Promise<number>;
    taskdockStartTask(
      cancelKey: string,
      eventsKey: string,
      jobId: string,
      maxLen: number,
      event: string,
    ): Promise<number>;
    taskdockAppendLogs(key: string, keep: number, ...lines: string[]): Promise<number>;
    taskdockRepairIndexes(
      prefix: string,
      maxLen: number,
      entriesJson: string,
    ): Promise<[added: number, corrected: number, removed: number]>;
  }
}

const defined = new WeakSet<RedisConnection>();

/** Registers Taskdock's scripts on a client (idempotent). */
export function defineScripts(redis: RedisConnection): RedisConnection {
  if (!defined.has(redis)) {
    defined.add(redis);
    redis.defineCommand('taskdockGetJobs', { numberOfKeys: 1, lua: GET_JOBS });
    redis.defineCommand('taskdockCancelQueued', { numberOfKeys: 1, lua: CANCEL_QUEUED });
    redis.defineCommand('taskdockAcquireSlot', { numberOfKeys: 1, lua: ACQUIRE_SLOT });
    redis.defineCommand('taskdockRelayStep', { numberOfKeys: 1, lua: RELAY_STEP });
    redis.defineCommand('taskdockIndexNewTask', { numberOfKeys: 1, lua: INDEX_NEW_TASK });
    redis.defineCommand('taskdockStartTask', { numberOfKeys: 2, lua: START_TASK });
    redis.defineCommand('taskdockAppendLogs', { numberOfKeys: 1, lua: APPEND_LOGS });
    redis.defineCommand('taskdockRepairIndexes', { numberOfKeys: 1, lua: REPAIR_INDEXES });
  }
  return redis;
}
