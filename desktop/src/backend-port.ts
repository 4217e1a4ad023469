import { readFile, rename, writeFile } from 'node:fs/promises';

/**
 * `<dataDir>/backend-port`: the port the backend listened on last, so a restart of Taskdock
 * keeps the address of open tabs and bookmarks. A missing or garbled file is no last port.
 */
export async function readLastBackendPort(file: string): Promise<number | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    const port = Number(text);
    return /^\d+$/.test(text) && port > 0 && port <= 65535 ? port : undefined;
  } catch {
    return undefined;
  }
}

export async function saveBackendPort(file: string, port: number): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${port}\n`, { mode: 0o600 });
  await rename(temp, file);
}
