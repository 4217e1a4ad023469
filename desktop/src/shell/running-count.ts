import type { Stats, TaskEvent } from '@taskdock/shared/contract';

/** Where the count shows: the tray's tooltip and title, the dock badge on macOS. */
export interface RunningBadge {
  show(running: number): void;
}

export interface RunningCountOptions {
  readonly apiUrl: string;
  readonly token: string;
  readonly badge: RunningBadge;
  /** A burst of events gives one `GET /api/stats` after this. */
  readonly settleMs?: number;
  /** Asked again this often anyway (a missed event, a restart of the backend). */
  readonly refreshMs?: number;
}

/** Events after which the number of running tasks may differ (not `progress`). */
const MOVES_COUNT = new Set<TaskEvent['type']>([
  'running',
  'completed',
  'failed',
  'cancelled',
  'queued',
  'scheduled',
  'removed',
]);

/**
 * The number of running tasks (`byStatus.running` of `GET /api/stats`), asked for when an event
 * may have changed it and every `refreshMs`; the badge is told only when the number changes.
 * A failed request keeps the last number.
 */
export class RunningCount {
  readonly #options: RunningCountOptions;
  #shown: number | undefined;
  #pending: NodeJS.Timeout | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #asked = 0;

  constructor(options: RunningCountOptions) {
    this.#options = options;
  }

  start(): void {
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#options.refreshMs ?? 30_000);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#pending);
  }

  /** Called for each task event. */
  handle(event: TaskEvent): void {
    if (MOVES_COUNT.has(event.type)) this.soon();
  }

  /** A refresh shortly, shared by every call until it runs. */
  soon(): void {
    if (this.#pending || this.#stopped) return;
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      void this.refresh();
    }, this.#options.settleMs ?? 250);
  }

  async refresh(): Promise<void> {
    const asked = ++this.#asked;
    let running: number;
    try {
      const response = await fetch(`${this.#options.apiUrl}/api/stats`, {
        headers: { authorization: `Bearer ${this.#options.token}` },
        signal: AbortSignal.timeout(5000),
      });
      if (!response.ok) return;
      running = ((await response.json()) as Stats).byStatus.running;
    } catch {
      return;
    }
    // An answer overtaken by a later question is old news.
    if (this.#stopped || asked !== this.#asked || running === this.#shown) return;
    this.#shown = running;
    this.#options.badge.show(running);
  }
}
