/** electron-updater's autoUpdater as the shell uses it (electron/updater.ts). */
export interface Updater {
  /** Looks for a newer release; a found one downloads in the background, installs on quit. */
  check(): Promise<void>;
}

export const UPDATE_CHECK_INTERVAL_MS = 24 * 60 * 60 * 1000;

/** Why updates are off, or undefined when they run. */
export function autoUpdateOff(settings: {
  readonly packaged: boolean;
  readonly enabled: boolean;
}): string | undefined {
  if (!settings.packaged) return 'development build (not packaged)';
  if (!settings.enabled) return 'TASKDOCK_AUTO_UPDATE=0';
  return undefined;
}

/**
 * Checks at once and then every `intervalMs` (daily). A failed check (offline, GitHub down) is
 * logged and waits for the next one.
 */
export function scheduleUpdateChecks(options: {
  readonly updater: Updater;
  readonly log: (message: string) => void;
  readonly intervalMs?: number;
}): { stop(): void } {
  const check = () => {
    options.updater.check().catch((err: unknown) => {
      options.log(`update check failed: ${(err as Error).message}`);
    });
  };
  check();
  const timer = setInterval(check, options.intervalMs ?? UPDATE_CHECK_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
