import updaterModule from 'electron-updater';
import type { Updater } from '../shell/auto-update.ts';

/**
 * electron-updater from the GitHub releases in the packaged app's app-update.yml (written by
 * electron-builder from `publish` in electron-builder.yml): download in the background, install
 * when the app quits.
 */
export function electronUpdater(log: (message: string) => void): Updater {
  const { autoUpdater } = updaterModule;
  autoUpdater.autoDownload = true;
  autoUpdater.autoInstallOnAppQuit = true;
  autoUpdater.on('update-downloaded', (info) => {
    log(`update ${info.version} downloaded: it is installed when Taskdock quits`);
  });
  autoUpdater.on('error', (err) => log(`update failed: ${err.message}`));
  return {
    check: async () => {
      await autoUpdater.checkForUpdates();
    },
  };
}
