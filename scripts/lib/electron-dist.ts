import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * TASKDOCK_ELECTRON_DIST is the one name for a local Electron build: `npm start` runs it, and
 * `dist`/`dist:dir` package it instead of downloading one. This is where the binary sits in an
 * unpacked Electron release zip (the layout `node_modules/electron/dist` has too).
 */
export function electronExecutable(dir: string, platform: NodeJS.Platform = process.platform) {
  if (platform === 'darwin') return path.join(dir, 'Electron.app', 'Contents', 'MacOS', 'Electron');
  return path.join(dir, platform === 'win32' ? 'electron.exe' : 'electron');
}

/** Why `value` (TASKDOCK_ELECTRON_DIST) is not a usable Electron build, or undefined if it is. */
export function electronDistProblem(
  value: string,
  options: { zipAllowed: boolean; platform?: NodeJS.Platform },
): string | undefined {
  const resolved = path.resolve(value);
  const hint =
    'point it at the unpacked electron-v<version>-<platform>-<arch>.zip of the Electron version ' +
    `in desktop/package.json${options.zipAllowed ? ', or that zip' : ''}`;
  if (!existsSync(resolved)) return `TASKDOCK_ELECTRON_DIST=${value} does not exist: ${hint}`;
  if (statSync(resolved).isFile()) {
    if (options.zipAllowed && resolved.endsWith('.zip')) return undefined;
    return `TASKDOCK_ELECTRON_DIST=${value} is a file, not an Electron folder: ${hint}`;
  }
  const binary = electronExecutable(resolved, options.platform);
  if (!existsSync(binary)) {
    return `TASKDOCK_ELECTRON_DIST=${value} holds no Electron build (${path.relative(resolved, binary)} is missing): ${hint}`;
  }
  return undefined;
}
