import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROUTES = fileURLToPath(new URL('../../src/routes/', import.meta.url));
const TASKS = fileURLToPath(new URL('../../src/tasks/', import.meta.url));

/** What a route may not reach: the engine's storage, only the engine interface in front of it. */
function forbidden(file: string, specifier: string): string | undefined {
  if (specifier === 'ioredis' || specifier === 'bullmq' || specifier.startsWith('bullmq/')) {
    return specifier;
  }
  if (!specifier.startsWith('.')) return undefined;
  const target = path.resolve(path.dirname(file), specifier);
  return target.startsWith(TASKS) ? path.relative(path.dirname(ROUTES), target) : undefined;
}

test('no route imports ioredis, BullMQ or the Redis engine internals under tasks/', async () => {
  const files = (await readdir(ROUTES, { recursive: true }))
    .filter((name) => name.endsWith('.ts'))
    .map((name) => path.join(ROUTES, name));
  assert.ok(files.length >= 8, `found the route files (${files.length})`);
  const offences: string[] = [];
  for (const file of files) {
    const source = await readFile(file, 'utf8');
    // Static imports and re-exports (`from '…'`), side-effect imports and dynamic import().
    const specifiers = source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g);
    for (const [, specifier] of specifiers) {
      const reached = forbidden(file, specifier as string);
      if (reached) offences.push(`${path.relative(ROUTES, file)} imports ${reached}`);
    }
  }
  assert.deepEqual(offences, []);
});
