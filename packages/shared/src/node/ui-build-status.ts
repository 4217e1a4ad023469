import { readFile, rm, writeFile } from 'node:fs/promises';
import { isAlive } from './processes.ts';

/**
 * A first start in a source checkout builds the UI itself (desktop `ui-build.ts`) while the API
 * already runs; the backend's "UI not built" page reads this file to say so. It lives beside
 * the UI folder (`frontend/out.build.json`), not in it: `next build` replaces that folder.
 */
export type UiBuildStatus =
  | { readonly state: 'building'; readonly pid: number; readonly log: string }
  | { readonly state: 'failed'; readonly message: string; readonly log: string };

export function uiBuildFiles(uiDir: string): { readonly status: string; readonly log: string } {
  return { status: `${uiDir}.build.json`, log: `${uiDir}.build.log` };
}

function parse(text: string): UiBuildStatus | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.log !== 'string') return null;
  if (v.state === 'building' && Number.isSafeInteger(v.pid) && (v.pid as number) > 1) {
    return { state: 'building', pid: v.pid as number, log: v.log };
  }
  if (v.state === 'failed' && typeof v.message === 'string') {
    return { state: 'failed', message: v.message.slice(0, 2000), log: v.log };
  }
  return null;
}

/**
 * The build's state, or null when none runs or failed: no file, a bad one, or "building" by a
 * process that is gone (a supervisor killed mid-build; the next start builds again).
 */
export async function readUiBuildStatus(uiDir: string): Promise<UiBuildStatus | null> {
  let text: string;
  try {
    text = await readFile(uiBuildFiles(uiDir).status, 'utf8');
  } catch {
    return null;
  }
  const status = parse(text);
  if (status?.state === 'building' && !isAlive(status.pid)) return null;
  return status;
}

export async function writeUiBuildStatus(uiDir: string, status: UiBuildStatus): Promise<void> {
  await writeFile(uiBuildFiles(uiDir).status, `${JSON.stringify(status)}\n`);
}

export async function clearUiBuildStatus(uiDir: string): Promise<void> {
  await rm(uiBuildFiles(uiDir).status, { force: true });
}
