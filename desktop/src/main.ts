// ENTRY (Electron main): lifecycle only. Services, logs and runtime.json are the plain-Node
// supervisor's job (taskdock.ts); this file adds the single-instance lock, splash, window,
// tray, menu, the quit that awaits the supervisor, and the startup-failure dialog; once running,
// it starts the desktop conventions (notifications, tray count, updates: docs/desktop.md).
import path from 'node:path';
import type { ConfigError } from '@taskdock/shared/node/settings';
import { app, BrowserWindow, dialog, Menu, type MenuItemConstructorOptions, shell } from 'electron';
import { type DesktopConfig, loadDesktopConfig } from './config.ts';
import { startDesktopConventions } from './electron/conventions.ts';
import { electronLoginItems } from './electron/login-items.ts';
import { watchTaskPages } from './electron/task-window.ts';
import { TaskdockTray } from './electron/tray.ts';
import { findRepoRoot, type Layout } from './paths.ts';
import type { LiveTasks } from './shell/live-tasks.ts';
import { taskPageSignIn } from './shell/task-page.ts';
import { splashStep, splashUrl, unusedSteps } from './splash.ts';
import { StartupError } from './supervisor/supervisor.ts';
import { createTaskdock, type Taskdock } from './taskdock.ts';

let taskdock: Taskdock | undefined;
let mainWindow: BrowserWindow | undefined;
let splash: BrowserWindow | undefined;
let tray: TaskdockTray | undefined;
let liveTasks: LiveTasks | undefined;
let quitState: 'running' | 'stopping' | 'done' = 'running';

function layout(): Layout {
  if (app.isPackaged) return { kind: 'packaged', resourcesPath: process.resourcesPath };
  // Development (`npm start`): the worker and backend run from `tsc -b` output.
  return { kind: 'built', repoRoot: findRepoRoot(import.meta.url) };
}

function openFolder(folder: string) {
  void shell.openPath(folder).then((error) => {
    if (error) dialog.showErrorBox('Taskdock', `Could not open ${folder}: ${error}`);
  });
}

function setupMenu(td: Taskdock) {
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open logs folder', click: () => openFolder(td.paths.logs) },
        { label: 'Open data folder', click: () => openFolder(td.paths.dataDir) },
        { type: 'separator' },
        process.platform === 'darwin' ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

function updateTray(td: Taskdock) {
  tray?.services(td.supervisor?.services() ?? [], quitState !== 'running');
}

function setupTray(td: Taskdock) {
  tray = new TaskdockTray(electronLoginItems(), {
    openWindow: () => showMainWindow(td),
    openLogs: () => openFolder(td.paths.logs),
    openData: () => openFolder(td.paths.dataDir),
    quit: () => app.quit(),
  });
  td.onEvent(() => updateTray(td));
}

function showSplash(td: Taskdock) {
  splash = new BrowserWindow({
    width: 460,
    height: 300,
    frame: false,
    resizable: false,
    show: true,
    webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false },
  });
  void splash.loadURL(splashUrl(['redis', 'worker', 'backend']));
  const show = (step: unknown) => {
    const json = JSON.stringify(step);
    splash?.webContents.executeJavaScript(`window.taskdockStep(${json})`).catch(() => {});
  };
  td.onEvent((event) => {
    // Memory mode: redis and worker do not run; their rows say so (and why).
    for (const step of unusedSteps(td.supervisor?.services() ?? [])) show(step);
    show(splashStep(event));
  });
}

/** Brings the window up (made when there is none); `taskId`: on that task's detail page. */
function showMainWindow(td: Taskdock, taskId?: string) {
  const runtime = td.runtime();
  if (!runtime) return;
  // A fresh one-time sign-in link for every load (docs/desktop.md).
  const signIn = () => (taskId ? taskPageSignIn(td.signInUrl(), taskId) : td.signInUrl());
  if (mainWindow && !mainWindow.isDestroyed()) {
    if (mainWindow.isMinimized()) mainWindow.restore();
    if (taskId) void mainWindow.loadURL(signIn());
    mainWindow.show();
    mainWindow.focus();
    return;
  }
  const window = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 1024,
    minHeight: 600,
    show: false,
    title: 'Taskdock',
    webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false },
  });
  mainWindow = window;
  const origin = new URL(runtime.apiUrl).origin;
  watchTaskPages(window, origin, (id) => liveTasks?.watch(id));
  // The window shows Taskdock only; any other link opens in the user's browser.
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:/.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event, url) => {
    if (new URL(url).origin !== origin) {
      event.preventDefault();
      if (/^https?:/.test(url)) void shell.openExternal(url);
    }
  });
  window.once('ready-to-show', () => {
    window.show();
    splash?.destroy();
    splash = undefined;
  });
  window.on('closed', () => {
    mainWindow = undefined;
  });
  void window.loadURL(signIn());
}

function setupConventions(td: Taskdock, config: DesktopConfig) {
  const runtime = td.runtime();
  if (!runtime || !tray) return;
  liveTasks = startDesktopConventions({
    runtime,
    tray,
    autoUpdate: config.autoUpdate,
    log: (message) => td.logs?.system('supervisor', 'info', message),
    showTask: (id) => showMainWindow(td, id),
    window: () => mainWindow,
  });
}

async function showStartupFailure(td: Taskdock, err: unknown) {
  const failure = err instanceof StartupError ? err : new StartupError('supervisor', String(err));
  const detail = [
    failure.lastLines.length > 0
      ? `Last output of ${failure.service}:\n${failure.lastLines.slice(-8).join('\n')}`
      : '',
    `Logs: ${td.paths.logs}`,
  ]
    .filter(Boolean)
    .join('\n\n');
  const { response } = await dialog.showMessageBox({
    type: 'error',
    title: 'Taskdock could not start',
    message: failure.message,
    detail,
    buttons: ['Open logs folder', 'Quit'],
    defaultId: 0,
    cancelId: 1,
  });
  if (response === 0) await shell.openPath(td.paths.logs);
  // Only now: closing the last window would quit before the dialog was read.
  splash?.destroy();
  splash = undefined;
  app.quit();
}

function watchForGivenUp(td: Taskdock) {
  td.onEvent((event) => {
    if (event.type !== 'failed' || !td.runtime()) return;
    void dialog
      .showMessageBox({
        type: 'warning',
        title: 'Taskdock',
        message: `The ${event.service} service stopped working`,
        detail: `${event.reason}\n\nLogs: ${td.paths.logs}`,
        buttons: ['Open logs folder', 'OK'],
        defaultId: 1,
      })
      .then(({ response }) => {
        if (response === 0) openFolder(td.paths.logs);
      });
  });
}

async function main() {
  // The same folder the headless runner and the backend use by default (docs/desktop.md).
  app.setPath('userData', path.join(app.getPath('appData'), 'Taskdock'));
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('second-instance', () => {
    if (taskdock) showMainWindow(taskdock);
  });

  let config: ReturnType<typeof loadDesktopConfig>;
  try {
    config = loadDesktopConfig(process.env, { dataDir: app.getPath('userData') });
  } catch (err) {
    await app.whenReady();
    dialog.showErrorBox('Taskdock: invalid configuration', (err as ConfigError).message);
    app.exit(78);
    return;
  }
  const td = createTaskdock({
    config,
    layout: layout(),
    runner: { execPath: process.execPath, electron: true },
    supervisorPid: process.pid,
  });
  taskdock = td;

  // Quit = stop the services (awaited), then really quit. No orphan is left behind.
  app.on('before-quit', (event) => {
    if (quitState === 'done') return;
    event.preventDefault();
    if (quitState === 'stopping') return;
    quitState = 'stopping';
    updateTray(td);
    liveTasks?.stop();
    void td.stop().finally(() => {
      quitState = 'done';
      app.quit();
    });
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (td.runtime()) showMainWindow(td);
  });
  process.on('SIGTERM', () => app.quit());
  process.on('SIGINT', () => app.quit());

  await app.whenReady();
  setupMenu(td);
  setupTray(td);
  showSplash(td);
  watchForGivenUp(td);
  try {
    await td.start();
  } catch (err) {
    if (quitState === 'running') await showStartupFailure(td, err);
    return;
  }
  showMainWindow(td);
  setupConventions(td, config);
}

void main();
