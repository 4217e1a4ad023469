import type { RuntimeInfo } from '@taskdock/shared/node/runtime-file';
import { app, type BrowserWindow } from 'electron';
import { autoUpdateOff, scheduleUpdateChecks } from '../shell/auto-update.ts';
import { followLiveTasks, type LiveTasks } from '../shell/live-tasks.ts';
import { electronNotifier } from './notifier.ts';
import { showsTask } from './task-window.ts';
import type { TaskdockTray } from './tray.ts';
import { electronUpdater } from './updater.ts';

/**
 * What an installed app does once Taskdock runs (docs/desktop.md "Desktop conventions"):
 * notifications of watched tasks, the tray's running count, and update checks.
 */
export function startDesktopConventions(options: {
  readonly runtime: RuntimeInfo;
  readonly tray: TaskdockTray;
  readonly autoUpdate: boolean;
  readonly log: (message: string) => void;
  /** The window, brought up on the task's page. */
  readonly showTask: (taskId: string) => void;
  readonly window: () => BrowserWindow | undefined;
}): LiveTasks {
  const { runtime, log } = options;
  const origin = new URL(runtime.apiUrl).origin;
  const live = followLiveTasks({
    apiUrl: runtime.apiUrl,
    token: runtime.token,
    notifier: electronNotifier(),
    badge: options.tray,
    openTask: options.showTask,
    isShowing: (id) => showsTask(options.window(), origin, id),
  });
  const off = autoUpdateOff({ packaged: app.isPackaged, enabled: options.autoUpdate });
  if (off) log(`auto-update off: ${off}`);
  else scheduleUpdateChecks({ updater: electronUpdater(log), log });
  return live;
}
