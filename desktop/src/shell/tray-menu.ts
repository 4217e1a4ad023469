import type { ServiceInfo } from '@taskdock/shared/contract';
import type { TrayState } from '../tray-icon.ts';

/** The OS's "open at login" setting for this app (electron/login-items.ts). */
export interface LoginItems {
  openAtLogin(): boolean;
  setOpenAtLogin(open: boolean): void;
}

/** One tray menu row; electron/tray.ts turns these into Electron menu items. */
export type TrayItem =
  | { readonly kind: 'info'; readonly label: string }
  | { readonly kind: 'separator' }
  | { readonly kind: 'action'; readonly label: string; readonly run: () => void }
  | {
      readonly kind: 'checkbox';
      readonly label: string;
      readonly checked: boolean;
      readonly run: () => void;
    };

export interface TrayActions {
  readonly openWindow: () => void;
  readonly openLogs: () => void;
  readonly openData: () => void;
  readonly quit: () => void;
}

export function trayState(stopping: boolean, services: readonly ServiceInfo[]): TrayState {
  if (stopping) return 'stopped';
  if (services.some((s) => s.status === 'failed')) return 'degraded';
  if (services.every((s) => ['running', 'external', 'unused'].includes(s.status))) return 'running';
  return 'starting';
}

const tasksRunning = (running: number) => `${running} task${running === 1 ? '' : 's'} running`;

/** `Taskdock: running, 2 tasks running (redis: running, …)`; the count once it is known. */
export function trayTooltip(
  state: TrayState,
  services: readonly ServiceInfo[],
  running: number | undefined,
): string {
  const summary = services.map((s) => `${s.name}: ${s.status}`).join(', ');
  const count = running === undefined ? '' : `, ${tasksRunning(running)}`;
  return `Taskdock: ${state}${count}${summary ? ` (${summary})` : ''}`;
}

/** The tray title (macOS menu bar) and dock badge: the count, nothing at 0. */
export const runningBadgeText = (running: number | undefined) => (running ? String(running) : '');

export function trayItems(
  services: readonly ServiceInfo[],
  running: number | undefined,
  /** Undefined where the OS has no login items for the app (Linux): no such row. */
  login: LoginItems | undefined,
  actions: TrayActions,
): TrayItem[] {
  const openAtLogin = login?.openAtLogin() ?? false;
  return [
    ...services.map(
      (s): TrayItem => ({
        kind: 'info',
        label: `${s.name}: ${s.status}${s.restarts > 0 ? ` (${s.restarts} restarts)` : ''}`,
      }),
    ),
    ...(running === undefined ? [] : [{ kind: 'info', label: tasksRunning(running) } as const]),
    { kind: 'separator' },
    { kind: 'action', label: 'Open Taskdock', run: actions.openWindow },
    { kind: 'action', label: 'Open logs folder', run: actions.openLogs },
    { kind: 'action', label: 'Open data folder', run: actions.openData },
    ...(login === undefined
      ? []
      : ([
          { kind: 'separator' },
          {
            kind: 'checkbox',
            label: 'Open at login',
            checked: openAtLogin,
            run: () => login.setOpenAtLogin(!openAtLogin),
          },
        ] as const)),
    { kind: 'separator' },
    { kind: 'action', label: 'Quit Taskdock', run: actions.quit },
  ];
}
