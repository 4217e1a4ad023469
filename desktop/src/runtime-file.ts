import { rename, rm, writeFile } from 'node:fs/promises';

/** `<dataDir>/runtime.json` (SPEC 1): how to reach the running Taskdock. */
export interface RuntimeInfo {
  readonly apiUrl: string;
  readonly token: string;
  readonly redis: { readonly url: string };
  readonly pids: {
    readonly redis: number | null;
    readonly worker: number | null;
    readonly backend: number | null;
  };
  readonly uiUrl: string;
}

/** Written atomically (temp file + rename) with mode 0600: it holds the token and Redis password. */
export async function writeRuntimeFile(file: string, info: RuntimeInfo): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, file);
}

export async function removeRuntimeFile(file: string): Promise<void> {
  await rm(file, { force: true });
}
