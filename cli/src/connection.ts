import { dataPaths } from '@taskdock/shared/node/data-paths';
import { isRuntimeCurrent, readRuntimeFile } from '@taskdock/shared/node/runtime-file';
import { readTokenFile } from '@taskdock/shared/node/token-file';
import { CliError, START_HINT } from './exit-codes.ts';

/** Where the API is and the token it takes. */
export interface Connection {
  readonly url: string;
  readonly token: string;
}

export interface ConnectionSettings {
  /** --url or TASKDOCK_URL: a Taskdock elsewhere (or one started by hand). */
  readonly url: string | undefined;
  /** --token or TASKDOCK_TOKEN. */
  readonly token: string | undefined;
  /** TASKDOCK_DATA_DIR or the OS default: where a local app writes runtime.json. */
  readonly dataDir: string;
}

/**
 * The API to talk to: an explicit URL (with its token, or the data dir's token file, as the
 * backend on its own uses), else the running app's runtime.json. A runtime.json whose
 * supervisor is gone is a crashed run's, not a running app.
 */
export async function resolveConnection(settings: ConnectionSettings): Promise<Connection> {
  const paths = dataPaths(settings.dataDir);
  if (settings.url !== undefined) {
    const url = parseUrl(settings.url);
    const token = settings.token ?? (await readTokenFile(settings.dataDir));
    if (token === undefined) {
      throw new CliError(
        `No token for ${url}: set TASKDOCK_TOKEN (or --token), or put it in ${paths.token}`,
      );
    }
    return { url, token };
  }
  const runtime = await readRuntimeFile(paths.runtime);
  if (runtime === undefined || !isRuntimeCurrent(runtime)) {
    throw new CliError(
      `No Taskdock is running with the data directory ${settings.dataDir} ` +
        `(no current ${paths.runtime}): ${START_HINT}, or set TASKDOCK_URL for one elsewhere`,
    );
  }
  return { url: parseUrl(runtime.apiUrl), token: settings.token ?? runtime.token };
}

function parseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`"${value}" is not a URL (expected e.g. http://127.0.0.1:7300)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`"${value}" is not an http(s) URL`);
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}
