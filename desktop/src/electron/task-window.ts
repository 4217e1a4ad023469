import type { BrowserWindow } from 'electron';
import { taskIdOfPage } from '../shell/task-page.ts';

/**
 * Every task detail page the window shows is watched: opened from a list, or submitted (the
 * UI then opens the new task's page). Next.js moves between pages with pushState, hence the
 * in-page event as well as full loads.
 */
export function watchTaskPages(window: BrowserWindow, origin: string, watch: (id: string) => void) {
  const seen = (_event: unknown, url: string) => {
    const id = taskIdOfPage(url, origin);
    if (id !== undefined) watch(id);
  };
  window.webContents.on('did-navigate', seen);
  window.webContents.on('did-navigate-in-page', seen);
}

/** The focused window shows this task's page: its end needs no notification. */
export function showsTask(window: BrowserWindow | undefined, origin: string, id: string): boolean {
  if (!window || window.isDestroyed() || !window.isFocused()) return false;
  return taskIdOfPage(window.webContents.getURL(), origin) === id;
}
