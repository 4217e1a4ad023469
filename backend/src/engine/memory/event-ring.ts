import { compareEventIds, type TaskEvent } from '@taskdock/shared/contract';
import type { EventListener, StreamEvent, TaskEventFeed } from '../task-engine.ts';

/**
 * The event feed of the memory engine: the newest `maxLen` events in order, with ids of the
 * contract's shape (`<ms>-<n>`, increasing even when the clock steps back), and live listeners.
 */
export class EventRing implements TaskEventFeed {
  readonly #events: StreamEvent[] = [];
  readonly #listeners = new Set<EventListener>();
  #lastMs = 0;
  #lastSeq = 0;

  constructor(
    private readonly maxLen: number,
    private readonly onListenerError: (err: unknown) => void,
  ) {}

  /** Stores the event and hands it to every listener. */
  emit(event: TaskEvent): void {
    const now = Date.now();
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#lastSeq = 0;
    } else {
      this.#lastSeq++;
    }
    const stored: StreamEvent = {
      id: `${this.#lastMs}-${this.#lastSeq}`,
      type: event.type,
      taskId: event.taskId,
      data: JSON.stringify(event),
    };
    this.#events.push(stored);
    // Trimmed in steps, not one shift per event.
    if (this.#events.length > this.maxLen + Math.ceil(this.maxLen / 10)) {
      this.#events.splice(0, this.#events.length - this.maxLen);
    }
    for (const listener of this.#listeners) {
      try {
        listener(stored);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async *replay(afterId: string): AsyncGenerator<StreamEvent> {
    // The first event after `afterId` (ids are in order): a binary search.
    let low = 0;
    let high = this.#events.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (compareEventIds((this.#events[mid] as StreamEvent).id, afterId) <= 0) low = mid + 1;
      else high = mid;
    }
    // A copy: events keep coming (and old ones are trimmed) while the caller reads.
    for (const event of this.#events.slice(low)) yield event;
  }

  async newestId(): Promise<string | undefined> {
    return this.#events.at(-1)?.id;
  }

  close(): void {
    this.#listeners.clear();
  }
}
