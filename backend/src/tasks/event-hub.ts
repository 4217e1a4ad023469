import { duplicateConnection, type RedisConnection } from '@taskdock/shared/node/redis-connection';
import type { Logger } from 'pino';
import type { EventListener, StreamEvent, TaskEventFeed } from '../engine/task-engine.ts';
import { EVENTS_KEY } from './keys.ts';

const toEvent = ([id, flat]: [string, string[]]): StreamEvent => {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  return {
    id,
    type: fields.type ?? 'unknown',
    taskId: fields.taskId ?? '',
    data: fields.data ?? '{}',
  };
};

/**
 * One reader of Taskdock's event stream per backend, fanned out to every SSE client in memory,
 * so a thousand browsers cost one Redis connection.
 */
export class EventHub implements TaskEventFeed {
  readonly #redis: RedisConnection;
  readonly #blocking: RedisConnection;
  readonly #listeners = new Set<EventListener>();
  readonly #logger: Logger;
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(redis: RedisConnection, logger: Logger) {
    this.#redis = redis;
    this.#blocking = duplicateConnection(redis, { connectionName: 'taskdock-events' });
    this.#blocking.on('error', () => {});
    this.#logger = logger;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#tail((await this.newestId()) ?? '0-0');
  }

  /** The id of the newest event in the stream; undefined while it is empty. */
  async newestId(): Promise<string | undefined> {
    const [newest] = await this.#redis.xrevrange(EVENTS_KEY, '+', '-', 'COUNT', 1);
    return newest?.[0];
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#blocking.disconnect();
    await this.#loop;
  }

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Events after `afterId` (exclusive), oldest first, in pages. */
  async *replay(afterId: string): AsyncGenerator<StreamEvent> {
    let from = `(${afterId}`;
    for (;;) {
      const page = (await this.#redis.xrange(EVENTS_KEY, from, '+', 'COUNT', 500)) as [
        string,
        string[],
      ][];
      for (const entry of page) yield toEvent(entry);
      if (page.length < 500) return;
      from = `(${page.at(-1)?.[0]}`;
    }
  }

  async #tail(startId: string): Promise<void> {
    let lastId = startId;
    while (this.#running) {
      try {
        const reply = (await this.#blocking.xread(
          'COUNT',
          500,
          'BLOCK',
          5000,
          'STREAMS',
          EVENTS_KEY,
          lastId,
        )) as [string, [string, string[]][]][] | null;
        for (const entry of reply?.[0]?.[1] ?? []) {
          const event = toEvent(entry);
          lastId = event.id;
          for (const listener of this.#listeners) listener(event);
        }
      } catch (err) {
        if (!this.#running) return;
        this.#logger.warn({ err: (err as Error).message }, 'event stream read failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}
