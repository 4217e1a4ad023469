import { setTimeout as sleep } from 'node:timers/promises';
import { Type } from '@sinclair/typebox';
import { defineWorkflow, TaskFailure } from './workflow.ts';

export const sleepWorkflow = defineWorkflow({
  name: 'sleep',
  description: 'Waits, reporting progress in steps. For demos, tests and as a no-op (ms: 0).',
  paramsSchema: Type.Object(
    {
      ms: Type.Integer({ minimum: 0, maximum: 86_400_000, description: 'total time to wait' }),
      steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1 })),
      failAt: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 1000, description: 'fail when this step starts' }),
      ),
    },
    { additionalProperties: false },
  ),
  async run({ params, signal, progress }) {
    const { ms, steps = 1, failAt } = params;
    if (ms === 0 && failAt === undefined) return { sleptMs: 0 };
    for (let step = 1; step <= steps; step++) {
      if (step === failAt) throw new TaskFailure(`Failed at step ${step} as asked`, 'FAIL_AT');
      await sleep(ms / steps, undefined, { signal });
      await progress(Math.round((step / steps) * 100), `step ${step}/${steps}`);
    }
    return { sleptMs: ms };
  },
});
