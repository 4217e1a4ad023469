import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TaskFailure } from '../workflows/workflow.ts';

/**
 * Where Taskdock runs from: the repository (sources, `tsc -b` output) or, in a package, the
 * resources folder above `bundles/`.
 */
export function findAppRoot(moduleUrl: string): string {
  const file = fileURLToPath(moduleUrl);
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'backend', 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.dirname(path.dirname(file));
  }
}

const APP_ROOT = findAppRoot(import.meta.url);

/**
 * Readies an error for BullMQ, which stores `err.stack` with the failed task: a TaskFailure is
 * an expected failure whose message says it all, so it keeps no stack; any other stack keeps
 * its frames, with paths relative to the app root (no install path, user name or home).
 */
export function redactFailureStack(err: unknown, root = APP_ROOT): void {
  if (!(err instanceof Error) || !err.stack) return;
  if (err instanceof TaskFailure) {
    err.stack = '';
    return;
  }
  const prefixes = [`${pathToFileURL(root).href}/`, `${root}${path.sep}`];
  err.stack = prefixes.reduce((stack, prefix) => stack.replaceAll(prefix, ''), err.stack);
}
