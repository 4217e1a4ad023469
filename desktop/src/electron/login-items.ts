import { app } from 'electron';
import type { LoginItems } from '../shell/tray-menu.ts';

/** The OS login items; undefined on Linux, where Electron keeps no such setting. */
export function electronLoginItems(): LoginItems | undefined {
  if (process.platform !== 'darwin' && process.platform !== 'win32') return undefined;
  return {
    openAtLogin: () => app.getLoginItemSettings().openAtLogin,
    setOpenAtLogin: (openAtLogin) => app.setLoginItemSettings({ openAtLogin }),
  };
}
