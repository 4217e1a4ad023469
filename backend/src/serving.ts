import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import type { Env } from '@taskdock/shared/node/env';
import { SERVING_SOURCE_KEY, type ServingSource } from '@taskdock/shared/node/remote-serving';

/** Where and how the API listens (docs/remote-workers.md, "Serving beyond loopback"). */
export interface Serving {
  /** TASKDOCK_HOST: the address to bind; loopback unless opened on purpose. */
  readonly host: string;
  /** TASKDOCK_PUBLIC_URL: how other machines reach this API (banner, Host check). */
  readonly publicUrl: string | undefined;
  /** Host names the Host check accepts beside loopback (public URL's and TASKDOCK_ALLOWED_HOSTS). */
  readonly allowedHosts: readonly string[];
  /** TASKDOCK_TLS_CERT / TASKDOCK_TLS_KEY: PEM files; then https and Secure cookies. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** TASKDOCK_ALLOW_PLAINTEXT=1: a non-loopback bind without TLS, on purpose (warned about). */
  readonly plaintextRemote: boolean;
  /**
   * Who chose the bind: the environment, the desktop's remote workers setting (the supervisor
   * passes TASKDOCK_SERVING_SOURCE=setting), or nobody (loopback).
   */
  readonly source: ServingSource;
}

const LOOPBACK_BINDS = new Set(['127.0.0.1', '::1', 'localhost']);

export const isLoopbackBind = (host: string) =>
  LOOPBACK_BINDS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);

const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** Reads the serving variables; pushes every problem found onto `problems`. */
export function loadServing(env: Env, problems: string[]): Serving {
  const host = env.TASKDOCK_HOST?.trim() || '127.0.0.1';
  if (host !== 'localhost' && isIP(host) === 0) {
    problems.push(`TASKDOCK_HOST must be an IP address to bind (e.g. 0.0.0.0), got "${host}"`);
  }
  const allowedHosts: string[] = [];
  let publicUrl: string | undefined;
  const rawUrl = env.TASKDOCK_PUBLIC_URL?.trim();
  if (rawUrl) {
    try {
      const url = new URL(rawUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
      publicUrl = url.origin;
      allowedHosts.push(url.hostname.replace(/^\[|\]$/g, '').toLowerCase());
    } catch {
      problems.push(`TASKDOCK_PUBLIC_URL must be an http(s):// URL, got "${rawUrl}"`);
    }
  }
  for (const name of (env.TASKDOCK_ALLOWED_HOSTS ?? '').split(',').map((s) => s.trim())) {
    if (!name) continue;
    const bare = name.replace(/^\[|\]$/g, '');
    if (!HOST_NAME.test(bare) && isIP(bare) === 0) {
      problems.push(
        `TASKDOCK_ALLOWED_HOSTS must be comma-separated host names or IPs, got "${name}"`,
      );
    } else {
      allowedHosts.push(bare.toLowerCase());
    }
  }
  const certFile = env.TASKDOCK_TLS_CERT?.trim() || undefined;
  const keyFile = env.TASKDOCK_TLS_KEY?.trim() || undefined;
  let tls: Serving['tls'];
  if ((certFile === undefined) !== (keyFile === undefined)) {
    problems.push('TASKDOCK_TLS_CERT and TASKDOCK_TLS_KEY go together: give both or neither');
  } else if (certFile && keyFile) {
    for (const [name, file] of [
      ['TASKDOCK_TLS_CERT', certFile],
      ['TASKDOCK_TLS_KEY', keyFile],
    ] as const) {
      if (!path.isAbsolute(file)) problems.push(`${name} must be an absolute path, got "${file}"`);
    }
    tls = { certFile, keyFile };
  }
  const optIn = env.TASKDOCK_ALLOW_PLAINTEXT?.trim() ?? '';
  if (optIn !== '' && optIn !== '0' && optIn !== '1') {
    problems.push(`TASKDOCK_ALLOW_PLAINTEXT must be 1 or 0, got "${optIn}"`);
  }
  const plaintextRemote = !isLoopbackBind(host) && !tls;
  if (plaintextRemote && optIn !== '1') {
    problems.push(
      `TASKDOCK_HOST=${host} opens the API to other machines without TLS: set TASKDOCK_TLS_CERT and TASKDOCK_TLS_KEY, or TASKDOCK_ALLOW_PLAINTEXT=1 to accept that tokens cross the network in clear`,
    );
  }
  if (!isLoopbackBind(host) && allowedHosts.length === 0) {
    problems.push(
      `TASKDOCK_HOST=${host} needs TASKDOCK_PUBLIC_URL or TASKDOCK_ALLOWED_HOSTS: the names other machines use to reach this API`,
    );
  }
  const given = env[SERVING_SOURCE_KEY];
  const source: ServingSource =
    given === 'setting' || given === 'default'
      ? given
      : env.TASKDOCK_HOST?.trim()
        ? 'env'
        : 'default';
  return { host, publicUrl, allowedHosts, tls, plaintextRemote, source };
}

/** The PEM files of `tls`, read once at start (a missing file stops the start with its path). */
export async function readTls(
  tls: NonNullable<Serving['tls']>,
): Promise<{ cert: Buffer; key: Buffer }> {
  return { cert: await readFile(tls.certFile), key: await readFile(tls.keyFile) };
}
