import { FINAL_STATUSES, type Task } from '@taskdock/shared/contract';
import type { TaskEngine } from '../../src/engine/task-engine.ts';

/** Polls the task until `until` holds (default: a final status); fails after `timeoutMs`. */
export async function waitForTask(
  engine: Pick<TaskEngine, 'get'>,
  id: string,
  until: (task: Task) => boolean = (t) => FINAL_STATUSES.includes(t.status),
  timeoutMs = 10_000,
): Promise<Task> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await engine.get(id);
    if (task && until(task)) return task;
    if (Date.now() > deadline) {
      throw new Error(`Task ${id} did not reach the state in time: ${JSON.stringify(task)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
