import { BULLMQ_QUEUE_KEYS, TASK_ID_MAX_LENGTH } from '@taskdock/shared/contract';
import { CANCELLED_REASON, RELEASED_EVENT, STARTED_EVENT, THROUGHPUT_BUCKET_MS } from './keys.ts';
import { ATTEMPTS_FIELD, ERROR_CODE_FIELD } from './task-mapper.ts';

const luaSet = (words: readonly string[]) =>
  `{ ${words.map((w) => `[${JSON.stringify(w)}] = true`).join(', ')} }`;

/**
 * One step of the event relay, wholly inside Redis: reads what is new in each queue's BullMQ
 * event stream (past the position stored for it), turns each event into Taskdock's state (status
 * indexes, persisted counters, throughput buckets, attempt records, one resumable event stream)
 * and stores the new positions, all in one atomic call. No event crosses the socket: the relay
 * process only says when to step. Reading and applying in one script is also what makes a crash
 * or a second relay harmless: an event is applied exactly when its position moves past it.
 *
 * KEYS[1] prefix (a key's start: on a Cluster it names the slot). ARGV: relay id, lock ms,
 * events budget, events stream maxLen, then the queues, in the order to serve them (the relay
 * rotates it, so a busy queue cannot starve the others of the budget).
 * Returns { -1 } when another relay holds the lock, else { events read, { queue, position, … },
 * { workflow, outcome, duration ms or -1, … } } (the last for tasks that finished).
 */
export const RELAY_STEP = `
local prefix = KEYS[1]
local relayId, lockMs, budget, maxLen = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local lockKey = prefix .. ':relay:lock'
local holder = redis.call('GET', lockKey)
if holder and holder ~= relayId then return { -1 } end
redis.call('SET', lockKey, relayId, 'PX', lockMs)

local positionsKey = prefix .. ':relay:positions'
local statusOf = prefix .. ':index:status-of'
local enc = cjson.encode
-- Every job hash has a timestamp: without one the job is gone. Its attempts are read here too,
-- so a task's events cost one read of its hash per step.
local JOB_FIELDS = { 'timestamp', 'opts', 'ats', 'processedOn', 'finishedOn', 'failedReason', 'pb',
  '${ERROR_CODE_FIELD}', '${ATTEMPTS_FIELD}' }
-- Events whose op reads the job (creation time, options, timings, error code, attempts).
local NEEDS_JOB = ${luaSet(['added', 'active', STARTED_EVENT, 'delayed', 'waiting', 'completed', 'failed', 'stalled', RELEASED_EVENT])}
local QUEUE_KEYS = ${luaSet(BULLMQ_QUEUE_KEYS)}

-- The contract's task id rule (TASK_ID_PATTERN) for the job id part: a job whose id no task id
-- can name (a plain producer's odd custom id) is not Taskdock's. Queues were checked by the relay.
local function taskIdOf(queue, jobId)
  if not jobId or QUEUE_KEYS[jobId] or #queue + 1 + #jobId > ${TASK_ID_MAX_LENGTH} then return nil end
  if not string.find(jobId, '^[%w_%.@%+=~%-]+$') then
    local digits = string.match(jobId, '^repeat:[%w_%.@%+=~%-]+:(%d+)$')
    if not digits or #digits > 16 then return nil end
  end
  return queue .. ':' .. jobId
end

-- ms since 1970 as ISO 8601 (UTC, ms), as Date#toISOString writes it: days to civil date.
local function iso(ms)
  local s = math.floor(ms / 1000)
  local days = math.floor(s / 86400)
  local rem = s - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
    - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d, math.floor(rem / 3600),
    math.floor(rem % 3600 / 60), rem % 60, ms - s * 1000)
end

local function decoded(text)
  if not text then return nil end
  local ok, value = pcall(cjson.decode, text)
  if ok then return value end
  return nil
end

-- task-mapper.ts toProgress: a number or { percent, step? }, clamped to 0..100.
local function progressJson(raw)
  local value = decoded(raw)
  local percent, step = 0, nil
  if type(value) == 'number' then percent = value
  elseif type(value) == 'table' and value.percent ~= nil then
    percent = tonumber(value.percent) or 0
    if type(value.step) == 'string' then step = value.step end
  end
  if percent ~= percent or percent == math.huge or percent == -math.huge then percent = 0 end
  percent = math.min(100, math.max(0, percent))
  local text = '{"percent":' .. enc(percent)
  if step then text = text .. ',"step":' .. enc(step) end
  return text .. '}'
end

local function errorOf(message, job)
  local code = job['${ERROR_CODE_FIELD}']
  if code then return { message = message, code = code } end
  return { message = message }
end
local function errorJson(err)
  local text = '{"message":' .. enc(err.message)
  if err.code then text = text .. ',"code":' .. enc(err.code) end
  return text .. '}'
end

local ops, finished = {}, {}
-- One queue's events as ops (task-mapper's statuses; see docs/engine.md "Live state").
local function translate(queue, entries)
  local base = prefix .. ':' .. queue .. ':'
  local jobs = {}
  for _, entry in ipairs(entries) do
    local fields = {}
    local flat = entry[2]
    for i = 1, #flat, 2 do fields[flat[i]] = flat[i + 1] end
    local event, jobId = fields.event, fields.jobId
    local id = taskIdOf(queue, jobId)
    if id then
      local job = jobs[jobId]
      if not job and NEEDS_JOB[event] then
        job = {}
        local values = redis.call('HMGET', base .. jobId, unpack(JOB_FIELDS))
        for k, field in ipairs(JOB_FIELDS) do
          if values[k] then job[field] = values[k] end
        end
        local opts = decoded(job.opts)
        opts = type(opts) == 'table' and opts or {}
        local meta = type(opts.taskdock) == 'table' and opts.taskdock or {}
        job.delay = tonumber(opts.delay) or 0
        if type(meta.owner) == 'string' then job.owner = meta.owner end
        if type(meta.source) == 'string' then job.source = meta.source end
        jobs[jobId] = job
      end
      job = job or {}
      local at = tonumber(string.match(entry[1], '^(%d+)'))
      job.key = base .. jobId
      local function op(t, st, emit, extra)
        local data = '{"type":' .. enc(t) .. ',"taskId":' .. enc(id) .. ',"workflow":' .. enc(queue)
          .. ',"ts":"' .. iso(at) .. '"' .. (extra or '')
        if st then data = data .. ',"status":' .. enc(st) end
        return { t = t, id = id, wf = queue, st = st, emit = emit, data = data .. '}',
          score = tonumber(job.timestamp), owner = job.owner, source = job.source, job = job }
      end
      -- Closes the open attempt (if any) of a task going back to wait after a run: a failure.
      local function retried(o)
        o.att, o.at, o.err = 'failed', at, errorOf(job.failedReason or '', job)
        return o
      end
      local function starts(o)
        o.att, o.at, o.worker = 'start', at, job.pb
        return o
      end
      local function ends(o, outcome)
        o.count, o.att, o.at = outcome, outcome, at
        o.bucket = math.floor(at / ${THROUGHPUT_BUCKET_MS})
        local started, ended = tonumber(job.processedOn), tonumber(job.finishedOn)
        local duration = -1
        if started and ended and ended >= started then duration = ended - started end
        finished[#finished + 1] = queue
        finished[#finished + 1] = outcome
        finished[#finished + 1] = duration
        return o
      end
      local new
      if event == 'added' then
        new = op('created', job.delay > 0 and 'scheduled' or 'queued', 'always')
        new.count, new.lex = 'created', string.lower(jobId) .. '\\n' .. id
      elseif event == 'waiting' then
        -- Without prev it is the second half of an add; from active it is a retry (a stall or a
        -- release closed its attempt before: then closing it again changes nothing).
        if fields.prev then
          new = op('queued', 'queued', 'changed')
          if fields.prev == 'active' then retried(new) end
        end
      elseif event == 'delayed' then
        -- A delayed add is the scheduled status set at creation; later ones are backoffs or waits
        -- (an owner's slot wait comes before its attempt starts, so it closes none).
        if tonumber(job.ats or 0) > 0 or job.processedOn then
          new = retried(op('queued', 'queued', 'changed'))
        end
      elseif event == 'active' then
        -- A task with an owner may go back to wait for a slot: it runs when the worker says so.
        if not job.owner then new = starts(op('running', 'running', 'always')) end
      elseif event == '${STARTED_EVENT}' then
        if job.owner then new = starts(op('running', 'running', 'always')) end
      elseif event == 'stalled' then
        -- BullMQ sent waiting (prev active) just before, in the same script: that closed the
        -- attempt as failed at this very millisecond, which recordAttempt corrects to stalled.
        new = op('queued', nil, 'never')
        new.att, new.at = 'stalled', at
      elseif event == '${RELEASED_EVENT}' then
        new = op('queued', nil, 'never')
        new.att, new.at = 'released', at
      elseif event == 'progress' then
        new = op('progress', nil, 'always', ',"progress":' .. progressJson(fields.data))
      elseif event == 'completed' then
        new = ends(op('completed', 'completed', 'always', ',"progress":{"percent":100}'), 'completed')
      elseif event == 'failed' then
        local err = errorOf(fields.failedReason or '', job)
        if fields.failedReason == '${CANCELLED_REASON}' then
          new = ends(op('cancelled', 'cancelled', 'always'), 'cancelled')
        else
          new = ends(op('failed', 'failed', 'always', ',"error":' .. errorJson(err)), 'failed')
          new.err = err
        end
      elseif event == 'removed' then
        new = op('removed', nil, 'always')
        new.lex = string.lower(jobId) .. '\\n' .. id
      end
      if new then ops[#ops + 1] = new end
    end
  end
end

local queues = {}
for i = 5, #ARGV do queues[#queues + 1] = ARGV[i] end
local stored = #queues > 0 and redis.call('HMGET', positionsKey, unpack(queues)) or {}
local read, positions = 0, {}
for i, queue in ipairs(queues) do
  local position = stored[i] or '0-0'
  if read < budget then
    local entries = redis.call('XRANGE', prefix .. ':' .. queue .. ':events', '(' .. position, '+',
      'COUNT', budget - read)
    if #entries > 0 then
      read = read + #entries
      translate(queue, entries)
      position = entries[#entries][1]
      redis.call('HSET', positionsKey, queue, position)
    end
  end
  positions[#positions + 1] = queue
  positions[#positions + 1] = position
end

-- Within one step only a task's last status needs indexing: earlier moves (created → running →
-- completed) are dropped, their events still sent. queued ops keep theirs: they are sent only
-- when the status really changed, which the index tells.
local last = {}
for i, o in ipairs(ops) do
  if o.st or o.t == 'removed' then last[o.id] = i end
end
for i, o in ipairs(ops) do
  if o.st and o.emit == 'always' and last[o.id] ~= i then o.st = nil end
end

local function statusKey(s, wf)
  if wf then return prefix .. ':index:status:' .. s .. ':' .. wf end
  return prefix .. ':index:status:' .. s
end
local function addOnce(key, score, id) redis.call('ZADD', key, 'NX', score, id) end
-- Attempt records live in the job's hash (they go when the job goes), oldest first, at most 200
-- (the first is kept); read with the job and written once per job and step. A start while one
-- is open means the open one was lost with its worker.
local touched = {}
local function recordAttempt(o)
  local job = o.job
  if not job.timestamp then return end
  if not job.attempts then job.attempts = decoded(job['${ATTEMPTS_FIELD}']) or {} end
  local list = job.attempts
  local latest = list[#list]
  if o.att == 'start' then
    if latest and latest.outcome == 'running' then
      latest.outcome = 'stalled'
      latest.finishedAt = o.at
    end
    local entry = { number = (latest and latest.number or 0) + 1, startedAt = o.at, outcome = 'running' }
    if o.worker then entry.workerId = o.worker end
    if #list >= 200 then table.remove(list, 2) end
    list[#list + 1] = entry
  elseif latest and latest.outcome == 'running' then
    latest.outcome = o.att
    latest.finishedAt = o.at
    if o.err then latest.error = o.err end
  elseif o.att == 'stalled' and latest and latest.outcome == 'failed' and latest.finishedAt == o.at then
    latest.outcome = 'stalled'
    latest.error = nil
  else
    return
  end
  touched[job.key] = job
end

-- Counters are summed per step and written once per key and field.
local increments = {}
local function count(key, field)
  local fields = increments[key]
  if not fields then
    fields = {}
    increments[key] = fields
  end
  fields[field] = (fields[field] or 0) + 1
end

for _, o in ipairs(ops) do
  if o.att then recordAttempt(o) end
  local id, wf = o.id, o.wf
  local changed = true
  if o.t == 'removed' then
    local old = redis.call('HGET', statusOf, id)
    if old then
      redis.call('ZREM', statusKey(old), id)
      redis.call('ZREM', statusKey(old, wf), id)
      redis.call('HDEL', statusOf, id)
    end
    redis.call('ZREM', prefix .. ':index:tasks', id)
    redis.call('ZREM', prefix .. ':index:ids', o.lex)
    redis.call('ZREM', prefix .. ':index:workflow:' .. wf, id)
    if o.owner then redis.call('ZREM', prefix .. ':index:owner:' .. o.owner, id) end
    if o.source then redis.call('ZREM', prefix .. ':index:source:' .. o.source, id) end
  elseif o.st or o.t == 'created' then
    local score = o.score or redis.call('ZSCORE', prefix .. ':index:tasks', id)
    local old = score and redis.call('HGET', statusOf, id)
    if score and o.st then
      changed = old ~= o.st
      if changed then
        if old then
          redis.call('ZREM', statusKey(old), id)
          redis.call('ZREM', statusKey(old, wf), id)
        end
        redis.call('ZADD', statusKey(o.st), score, id)
        redis.call('ZADD', statusKey(o.st, wf), score, id)
        redis.call('HSET', statusOf, id, o.st)
      end
    end
    -- A task with a status was indexed at creation (the API indexes its own tasks and their
    -- status in one script): this covers plain BullMQ producers, three calls fewer per task.
    if score and o.t == 'created' and not old then
      addOnce(prefix .. ':index:tasks', score, id)
      redis.call('ZADD', prefix .. ':index:ids', 0, o.lex)
      addOnce(prefix .. ':index:workflow:' .. wf, score, id)
      if o.owner then
        addOnce(prefix .. ':index:owner:' .. o.owner, score, id)
        redis.call('SADD', prefix .. ':owners', o.owner)
      end
      if o.source then
        addOnce(prefix .. ':index:source:' .. o.source, score, id)
        redis.call('SADD', prefix .. ':sources', o.source)
      end
    end
  end
  if o.count then
    count(prefix .. ':stats:totals', o.count)
    count(prefix .. ':stats:workflow:' .. wf, o.count)
    if o.count ~= 'created' then
      local bucket = prefix .. ':stats:finished:' .. o.bucket
      count(bucket, '*')
      count(bucket, wf)
    end
  end
  if o.emit == 'always' or (o.emit == 'changed' and changed) then
    redis.call('XADD', prefix .. ':events', 'MAXLEN', '~', maxLen, '*',
      'type', o.t, 'taskId', id, 'data', o.data)
  end
end
for key, fields in pairs(increments) do
  for field, n in pairs(fields) do redis.call('HINCRBY', key, field, n) end
  if string.find(key, ':stats:finished:', 1, true) then redis.call('PEXPIRE', key, 1200000) end
end
for jobKey, job in pairs(touched) do
  redis.call('HSET', jobKey, '${ATTEMPTS_FIELD}', enc(job.attempts))
end
return { read, positions, finished }
`;
