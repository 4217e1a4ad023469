import { createReadStream } from 'node:fs';
import type { Env } from '@taskdock/shared/node/env';
import { REDIS_SECRET_KEYS } from '@taskdock/shared/node/redis-connection';
import { ConfigError } from '@taskdock/shared/node/settings';

/** The settings a supervisor hands over on a pipe: never in the environment. */
export const SECRET_KEYS = [...REDIS_SECRET_KEYS, 'TASKDOCK_TOKEN'] as const;
export type Secrets = Partial<Record<(typeof SECRET_KEYS)[number], string>>;

const MAX_BYTES = 64 * 1024;
const TIMEOUT_MS = 10_000;

/**
 * TASKDOCK_SECRETS_FD names an inherited file descriptor (the supervisor's pipe, or a file a
 * user redirects) holding a JSON object of SECRET_KEYS values, read once to its end and closed.
 * The environment is visible to every process of the user in /proc/<pid>/environ, for the
 * process's whole life; this is not. Without the variable: no secrets (the environment's
 * TASKDOCK_REDIS_URL and TASKDOCK_TOKEN still apply, for manual runs).
 */
export async function readInheritedSecrets(env: Env): Promise<Secrets> {
  const raw = env.TASKDOCK_SECRETS_FD;
  if (raw === undefined || raw === '') return {};
  if (!/^\d+$/.test(raw) || Number(raw) < 3) {
    throw new ConfigError([
      `TASKDOCK_SECRETS_FD must be a file descriptor number ≥ 3, got "${raw}"`,
    ]);
  }
  let text: string;
  try {
    text = await readToEnd(Number(raw));
  } catch (err) {
    throw new ConfigError([`TASKDOCK_SECRETS_FD ${raw} cannot be read: ${(err as Error).message}`]);
  }
  // The content is secret: errors name the problem, never the value.
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError([`TASKDOCK_SECRETS_FD ${raw} must hold a JSON object`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([`TASKDOCK_SECRETS_FD ${raw} must hold a JSON object`]);
  }
  const problems: string[] = [];
  const secrets: Secrets = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!(SECRET_KEYS as readonly string[]).includes(key)) {
      problems.push(`TASKDOCK_SECRETS_FD: unknown key "${key}" (known: ${SECRET_KEYS.join(', ')})`);
    } else if (typeof value !== 'string') {
      problems.push(`TASKDOCK_SECRETS_FD: ${key} must be a string`);
    } else {
      secrets[key as keyof Secrets] = value;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return secrets;
}

function readToEnd(fd: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const stream = createReadStream('', { fd, autoClose: true });
    const chunks: Buffer[] = [];
    let bytes = 0;
    const fail = (err: Error) => {
      clearTimeout(timer);
      stream.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new Error(`no end of input within ${TIMEOUT_MS / 1000} s`)),
      TIMEOUT_MS,
    );
    stream.on('data', (chunk) => {
      bytes += chunk.length;
      if (bytes > MAX_BYTES) fail(new Error(`more than ${MAX_BYTES} bytes`));
      else chunks.push(chunk as Buffer);
    });
    stream.on('error', fail);
    stream.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
