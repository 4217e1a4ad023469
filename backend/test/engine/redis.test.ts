import { startStack } from '../helpers/stack.ts';
import { engineContract } from './contract-suite.ts';

// A real redis-server, the Redis engine and one in-process worker with the suite's settings.
engineContract('redis', async (settings) => {
  const stack = await startStack({ worker: { ...settings } });
  return { engine: stack.engine, close: () => stack.close() };
});
