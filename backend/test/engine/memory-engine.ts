import { OS_ENV_KEYS, pickEnv } from '@taskdock/shared/node/env';
import { pino } from 'pino';
import {
  createMemoryEngine,
  type MemoryEngineOptions,
} from '../../src/engine/memory/memory-engine.ts';
import { builtInWorkflows, createWorkflowRegistry } from '../../src/workflows/registry.ts';
import type { EngineSettings, EngineUnderTest } from './contract-suite.ts';

/** A memory engine with the built-in workflows, as the backend makes one in memory mode. */
export async function startMemoryEngine(
  settings: EngineSettings = {},
  options: Partial<MemoryEngineOptions> = {},
): Promise<EngineUnderTest> {
  const shellEnv = pickEnv(process.env, OS_ENV_KEYS);
  const engine = await createMemoryEngine({
    registry: createWorkflowRegistry(builtInWorkflows({ baseEnv: shellEnv })),
    retentionDays: 7,
    logger: pino({ level: 'silent' }),
    concurrency: settings.concurrency ?? 4,
    cancelWaitMs: 5000,
    shellEnv,
    limits: {
      ...(settings.globalConcurrency ? { globalConcurrency: settings.globalConcurrency } : {}),
      ...(settings.maxPerOwner ? { maxPerOwner: settings.maxPerOwner } : {}),
    },
    ...options,
  });
  return { engine, close: () => engine.close() };
}
