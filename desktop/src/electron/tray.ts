import type { ServiceInfo } from '@taskdock/shared/contract';
import { app, Menu, type MenuItemConstructorOptions, nativeImage, Tray } from 'electron';
import type { RunningBadge } from '../shell/running-count.ts';
import {
  type LoginItems,
  runningBadgeText,
  type TrayActions,
  type TrayItem,
  trayItems,
  trayState,
  trayTooltip,
} from '../shell/tray-menu.ts';
import { trayIconPng } from '../tray-icon.ts';

function menuItem(item: TrayItem): MenuItemConstructorOptions {
  switch (item.kind) {
    case 'info':
      return { label: item.label, enabled: false };
    case 'separator':
      return { type: 'separator' };
    case 'action':
      return { label: item.label, click: item.run };
    case 'checkbox':
      return { label: item.label, type: 'checkbox', checked: item.checked, click: item.run };
  }
}

/** The tray icon: state colour, tooltip, menu, and the running-task count (dock badge on macOS). */
export class TaskdockTray implements RunningBadge {
  readonly #tray = new Tray(nativeImage.createFromBuffer(trayIconPng('starting')));
  #services: readonly ServiceInfo[] = [];
  #stopping = false;
  #running: number | undefined;
  readonly #login: LoginItems | undefined;
  readonly #actions: TrayActions;

  constructor(login: LoginItems | undefined, actions: TrayActions) {
    // Drawn again after a toggle, so the checkbox shows what the OS now holds.
    this.#login = login && {
      openAtLogin: () => login.openAtLogin(),
      setOpenAtLogin: (open) => {
        login.setOpenAtLogin(open);
        this.#render();
      },
    };
    this.#actions = actions;
    this.#render();
  }

  services(services: readonly ServiceInfo[], stopping: boolean): void {
    this.#services = services;
    this.#stopping = stopping;
    this.#render();
  }

  show(running: number): void {
    this.#running = running;
    this.#render();
    if (process.platform === 'darwin') app.dock?.setBadge(runningBadgeText(running));
  }

  #render(): void {
    const state = trayState(this.#stopping, this.#services);
    this.#tray.setImage(nativeImage.createFromBuffer(trayIconPng(state)));
    this.#tray.setToolTip(trayTooltip(state, this.#services, this.#running));
    // The menu-bar title beside the icon (macOS only; a no-op elsewhere).
    this.#tray.setTitle(runningBadgeText(this.#running));
    const items = trayItems(this.#services, this.#running, this.#login, this.#actions);
    this.#tray.setContextMenu(Menu.buildFromTemplate(items.map(menuItem)));
  }
}
