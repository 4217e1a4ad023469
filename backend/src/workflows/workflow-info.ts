import type { WorkflowInfo } from '@taskdock/shared/contract';
import type { WorkflowRegistry } from './registry.ts';

export interface WorkflowStates {
  /** Live workers serving `name`. */
  workers(name: string): number;
  paused(name: string): boolean;
}

/**
 * Every workflow as `GET /api/workflows` lists it: the usable ones with their source, then the
 * files that did not load, with their error (no worker serves those). Every engine lists with it.
 */
export function workflowInfos(registry: WorkflowRegistry, states: WorkflowStates): WorkflowInfo[] {
  return [
    ...registry.list().map((w) => ({
      name: w.name,
      description: w.description,
      paramsSchema: w.paramsSchema,
      source: registry.sourceOf(w.name) ?? { kind: 'built-in' as const },
      workers: states.workers(w.name),
      paused: states.paused(w.name),
    })),
    ...registry.broken().map((b) => ({
      name: b.name,
      description: '',
      paramsSchema: {},
      source: { kind: 'file' as const, path: b.file },
      error: b.error,
      workers: 0,
      paused: false,
    })),
  ];
}
