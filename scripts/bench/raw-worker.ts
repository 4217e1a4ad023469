// A plain BullMQ worker with a no-op processor: the yardstick the Taskdock worker is measured
// against. argv: redis URL, queue name, concurrency. Prints "ready" once connected.
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const [url, queue, concurrency] = process.argv.slice(2);
const connection = new Redis(url as string, { maxRetriesPerRequest: null });
const worker = new Worker(queue as string, async () => undefined, {
  connection,
  prefix: 'bench-raw',
  concurrency: Number(concurrency),
});
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await worker.close();
  await connection.quit();
  process.exit(0);
});
