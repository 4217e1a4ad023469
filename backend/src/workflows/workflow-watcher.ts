import { type FSWatcher, watch } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { describeWorkflowLoadError } from '@taskdock/shared/contract';
import type { Logger } from 'pino';
import type { WorkflowRegistry } from './registry.ts';
import type { Workflow } from './workflow.ts';
import {
  type LoadedFile,
  type LoadOptions,
  listWorkflowFiles,
  loadWorkflowFile,
} from './workflow-files.ts';

/** Events come in bursts (an editor writes, renames, chmods): one reload after the last. */
const DEBOUNCE_MS = 100;
/** fs.watch misses events on some filesystems (network, some containers): a cheap re-scan. */
const RESCAN_MS = 1000;

export interface WorkflowWatcherOptions {
  /** TASKDOCK_WORKFLOWS_PATH: created when missing. */
  readonly folders: readonly string[];
  readonly registry: WorkflowRegistry;
  readonly load: LoadOptions;
  readonly logger: Logger;
}

export interface WorkflowWatcher {
  close(): void;
}

/**
 * Keeps the registry's file workflows equal to the folders' files: loads them all at start,
 * then reloads a file when it changes (fs.watch, plus a re-scan every second). Only changed
 * files are read again; a broken file becomes its error in the registry, never a throw.
 */
export async function watchWorkflowFolders(
  options: WorkflowWatcherOptions,
): Promise<WorkflowWatcher> {
  const { folders, registry, logger } = options;
  const loaded = new Map<string, { stamp: string; result: LoadedFile }>();
  const watchers = new Map<string, FSWatcher>();
  let closed = false;
  let running: Promise<void> | undefined;
  let again = false;
  let debounce: NodeJS.Timeout | undefined;

  /** What each file's last log line said, so a state is logged once, when it changes. */
  // A definition (each reload makes a new one) or an error's text.
  const reported = new Map<string, Workflow | string>();
  const report = () => {
    const states = new Map<string, Workflow | string>();
    for (const workflow of registry.list()) {
      const source = registry.sourceOf(workflow.name);
      if (source?.kind === 'file') states.set(source.path, workflow);
    }
    for (const { file, error } of registry.broken()) {
      states.set(file, describeWorkflowLoadError(error));
    }
    for (const [file, state] of states) {
      if (reported.get(file) === state) continue;
      reported.set(file, state);
      if (typeof state === 'string') logger.warn({ file }, `workflow file did not load: ${state}`);
      else logger.info({ workflow: state.name, file }, 'workflow file loaded');
    }
    for (const file of reported.keys()) {
      if (states.has(file)) continue;
      reported.delete(file);
      logger.info({ file }, 'workflow file removed');
    }
  };

  async function scan(): Promise<void> {
    const stamps = await listWorkflowFiles(folders);
    let changed = false;
    for (const file of loaded.keys()) {
      if (stamps.has(file)) continue;
      loaded.delete(file);
      changed = true;
    }
    for (const [file, stamp] of stamps) {
      if (loaded.get(file)?.stamp === stamp) continue;
      loaded.set(file, { stamp, result: await loadWorkflowFile(file, options.load) });
      changed = true;
    }
    if (changed) {
      registry.setFiles([...loaded.values()].map((entry) => entry.result));
      report();
    }
    armWatchers();
  }

  /** One reload at a time; a change during one causes exactly one more. */
  function reload(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await scan().catch((err) => logger.warn({ err }, 'workflow folders scan failed'));
        } while (again && !closed);
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  const schedule = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void reload(), DEBOUNCE_MS);
  };

  /** Watches each folder that exists and is not watched yet (again after it was re-created). */
  function armWatchers() {
    if (closed) return;
    for (const folder of folders) {
      if (watchers.has(folder)) continue;
      try {
        const watcher = watch(folder, { persistent: false }, schedule);
        watcher.on('error', () => {
          watcher.close();
          watchers.delete(folder);
        });
        watchers.set(folder, watcher);
      } catch {
        // Missing or unwatchable: the re-scan still sees it.
      }
    }
  }

  for (const folder of folders) {
    await mkdir(folder, { recursive: true, mode: 0o700 }).catch((err: Error) =>
      logger.warn({ folder, err: err.message }, 'workflows folder cannot be created'),
    );
  }
  await reload();
  const rescan = setInterval(() => void reload(), RESCAN_MS);
  rescan.unref();
  return {
    close() {
      closed = true;
      clearInterval(rescan);
      clearTimeout(debounce);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
