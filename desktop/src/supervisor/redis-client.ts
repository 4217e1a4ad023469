import net from 'node:net';

/**
 * A tiny RESP client for the supervisor's few commands (AUTH, PING, SHUTDOWN). One connection
 * per call and no reconnection logic: a health probe must fail fast, not queue and retry the
 * way a full client does.
 */
export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  readonly password?: string | undefined;
}

export type RespValue = string | number | null | RespError | RespValue[];

export class RespError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RespError';
  }
}

const encode = (args: readonly string[]) =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

/** Parses one value at `offset`; null when the buffer does not hold all of it yet. */
function parse(buf: Buffer, offset: number): [RespValue, number] | null {
  const end = buf.indexOf('\r\n', offset);
  if (end < 0) return null;
  const kind = String.fromCharCode(buf[offset] ?? 0);
  const line = buf.toString('utf8', offset + 1, end);
  const next = end + 2;
  switch (kind) {
    case '+':
      return [line, next];
    case '-':
      return [new RespError(line), next];
    case ':':
      return [Number(line), next];
    case '$': {
      const length = Number(line);
      if (length < 0) return [null, next];
      if (buf.length < next + length + 2) return null;
      return [buf.toString('utf8', next, next + length), next + length + 2];
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return [null, next];
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buf, at);
        if (!item) return null;
        items.push(item[0]);
        at = item[1];
      }
      return [items, at];
    }
    default:
      throw new RespError(`Unexpected reply from Redis: ${JSON.stringify(line.slice(0, 80))}`);
  }
}

interface Exchange {
  readonly replies: RespValue[];
  /** The server closed the connection (expected after SHUTDOWN). */
  readonly closed: boolean;
}

/** Sends the commands pipelined (AUTH first when a password is given) and collects the replies. */
async function exchange(
  target: RedisTarget,
  commands: readonly (readonly string[])[],
  timeoutMs: number,
): Promise<Exchange> {
  const all = target.password ? [['AUTH', target.password], ...commands] : commands;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port });
    let buffer = Buffer.alloc(0);
    const replies: RespValue[] = [];
    let settled = false;
    const finish = (err: Error | null, closed = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve({ replies, closed });
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(`Redis at ${target.host}:${target.port} did not answer within ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
    socket.on('connect', () => socket.write(all.map(encode).join('')));
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      let offset = 0;
      try {
        for (let parsed = parse(buffer, offset); parsed; parsed = parse(buffer, offset)) {
          replies.push(parsed[0]);
          offset = parsed[1];
        }
      } catch (err) {
        finish(err as Error);
        return;
      }
      buffer = buffer.subarray(offset);
      if (replies.length >= all.length) finish(null);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset after some replies is the server going away (SHUTDOWN), not a failed exchange.
      const gone = err.code === 'ECONNRESET' || err.code === 'EPIPE';
      finish(gone && replies.length > 0 ? null : err, gone);
    });
    socket.on('close', () => finish(null, true));
  });
}

/** Runs one command after AUTH; rejects with the server's error (e.g. NOAUTH, LOADING). */
export async function redisCommand(
  target: RedisTarget,
  args: readonly string[],
  timeoutMs = 1000,
): Promise<RespValue> {
  const { replies } = await exchange(target, [args], timeoutMs);
  for (const reply of replies) if (reply instanceof RespError) throw reply;
  const expected = target.password ? 2 : 1;
  if (replies.length < expected) throw new Error('Redis closed the connection without answering');
  return replies[expected - 1] ?? null;
}

/** Authenticated PING: true only on PONG. */
export async function redisPing(target: RedisTarget, timeoutMs = 1000): Promise<void> {
  const reply = await redisCommand(target, ['PING'], timeoutMs);
  if (reply !== 'PONG') throw new Error(`PING answered ${JSON.stringify(reply)}`);
}

/**
 * `SHUTDOWN SAVE`: Redis writes its RDB snapshot, fsyncs the AOF and closes the connection
 * without a reply. Rejects when Redis refuses (e.g. the save failed) or does not close.
 */
export async function redisShutdown(target: RedisTarget, timeoutMs = 10_000): Promise<void> {
  const { replies, closed } = await exchange(target, [['SHUTDOWN', 'SAVE']], timeoutMs);
  const error = replies.find((r): r is RespError => r instanceof RespError);
  if (error) throw error;
  if (!closed) throw new Error('Redis answered SHUTDOWN instead of shutting down');
}
