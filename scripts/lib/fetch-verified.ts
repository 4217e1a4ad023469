// Downloads a pinned file and checks its sha256. Never hangs: a connection that does not open
// within connectTimeoutMs, or a transfer that stalls for idleTimeoutMs, fails the attempt.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

export interface FetchOptions {
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxRedirects?: number;
}

export const DEFAULT_FETCH: FetchOptions = { connectTimeoutMs: 10_000, idleTimeoutMs: 30_000 };

export class FetchError extends Error {
  constructor(
    message: string,
    readonly attempts: readonly string[],
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

function get(url: string, opts: FetchOptions, redirectsLeft: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.get(url, { headers: { 'user-agent': 'taskdock-prepare-resources' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirectsLeft <= 0) {
          reject(new Error('too many redirects'));
          return;
        }
        const next = new URL(res.headers.location, url).toString();
        get(next, opts, redirectsLeft - 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new Error(`HTTP ${status}`));
        return;
      }
      resolve(res);
    });
    // The timer covers DNS lookup and TCP connect; after that the idle timeout takes over.
    const connectTimer = setTimeout(() => {
      req.destroy(new Error(`no connection within ${opts.connectTimeoutMs} ms`));
    }, opts.connectTimeoutMs);
    req.on('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    req.setTimeout(opts.idleTimeoutMs, () => {
      req.destroy(new Error(`no data for ${opts.idleTimeoutMs} ms`));
    });
    req.on('error', (err) => {
      clearTimeout(connectTimer);
      reject(err);
    });
    req.on('close', () => clearTimeout(connectTimer));
  });
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code} ${e.message}` : String(e.message ?? err);
}

/**
 * Tries each URL in turn; the first whose bytes hash to `sha256` is moved to `dest`.
 * Throws a FetchError listing every attempt when none does.
 */
export async function fetchVerified(
  urls: readonly string[],
  sha256: string,
  dest: string,
  opts: FetchOptions = DEFAULT_FETCH,
): Promise<string> {
  await mkdir(path.dirname(dest), { recursive: true });
  const partial = `${dest}.partial`;
  const attempts: string[] = [];
  for (const url of urls) {
    try {
      const res = await get(url, opts, opts.maxRedirects ?? 5);
      const hash = createHash('sha256');
      res.on('data', (chunk: Buffer) => hash.update(chunk));
      await pipeline(res, createWriteStream(partial));
      const actual = hash.digest('hex');
      if (actual !== sha256) {
        attempts.push(`${url}: sha256 ${actual} is not the pinned ${sha256}`);
        await rm(partial, { force: true });
        continue;
      }
      await rename(partial, dest);
      return url;
    } catch (err) {
      attempts.push(`${url}: ${describe(err)}`);
      await rm(partial, { force: true });
    }
  }
  throw new FetchError(
    `could not download ${path.basename(dest)}:\n    ${attempts.join('\n    ')}`,
    attempts,
  );
}
