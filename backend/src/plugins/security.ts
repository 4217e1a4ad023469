import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WorkerTokenIdentity } from '../remote/lease-engine.ts';
import { HttpError } from './http-error.ts';
import type { SessionManager } from './session.ts';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Served without the token or a session (liveness, the UI's static files). Every other
     * route, and every request no route matches, needs one.
     */
    public?: boolean;
    /** A worker token may call it too (lease, compatibility and workflow declaration routes). */
    workerToken?: boolean;
  }
  interface FastifyRequest {
    /** Set when the request carried a worker token rather than the main token. */
    workerToken?: WorkerTokenIdentity;
  }
}

/** Route options of a route anyone on this machine may call. */
export const PUBLIC_ROUTE = { config: { public: true } } as const;

/** Route options of a route a remote worker's token may call (beside the main token). */
export const WORKER_TOKEN_ROUTE = { config: { workerToken: true } } as const;

/** `Host: evil.example` reaching a loopback server is a DNS-rebinding attempt. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  return LOOPBACK_HOSTS.has((name ?? '').toLowerCase());
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A cookie rides along with any request the browser makes, and SameSite counts every port of
 * 127.0.0.1 as the same site: a page served by another local program could post to us. So a
 * cookie is taken only from our own origin (Fetch Metadata, and Origin on state changes).
 */
export function isSameOriginRequest(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  if (SAFE_METHODS.has(request.method)) return true;
  const origin = request.headers.origin;
  return origin !== undefined && origin === `${request.protocol}://${request.headers.host}`;
}

export interface SecurityOptions {
  readonly token: string;
  /** Browser sessions (cookie) accepted beside the bearer token. */
  readonly sessions?: SessionManager;
  /** Worker tokens accepted on WORKER_TOKEN_ROUTE routes (remote workers). */
  readonly workerTokens?: { verifyToken(token: string): Promise<WorkerTokenIdentity | null> };
  /** Host names answered beside loopback (TASKDOCK_PUBLIC_URL, TASKDOCK_ALLOWED_HOSTS). */
  readonly allowedHosts?: readonly string[];
}

/** The host name of a Host header, lower case, without port or IPv6 brackets. */
const hostName = (host: string) =>
  (host.startsWith('[')
    ? host.slice(1, host.indexOf(']'))
    : (host.split(':')[0] ?? '')
  ).toLowerCase();

/**
 * The request guard. Host check on every request; then the bearer token or a browser session
 * cookie (EventSource cannot send headers) unless the route the router matched declares itself
 * public. It decides on that match, never on the raw URL: `/%61pi/tasks` is routed to
 * `/api/tasks` and guarded as such, and a path no route matches (a 404) is guarded too.
 */
export function registerSecurity(
  app: FastifyInstance,
  { token, sessions, workerTokens, allowedHosts = [] }: SecurityOptions,
): void {
  const allowed = new Set(allowedHosts);
  app.addHook('onRequest', async (request) => {
    const host = request.headers.host;
    if (!isLoopbackHost(host) && !(host && allowed.has(hostName(host)))) {
      throw new HttpError(
        403,
        'FORBIDDEN_HOST',
        allowed.size === 0
          ? 'Taskdock answers only to loopback host names'
          : 'Taskdock answers only to loopback and its configured host names',
      );
    }
    if (request.routeOptions.config.public === true) return;
    const given = bearerToken(request);
    if (given !== undefined) {
      if (sameSecret(given, token)) {
        request.auth = 'bearer';
        return;
      }
      const worker = workerTokens ? await workerTokens.verifyToken(given) : null;
      if (!worker) throw new HttpError(401, 'UNAUTHORIZED', 'Invalid bearer token');
      if (request.routeOptions.config.workerToken !== true) {
        throw new HttpError(
          403,
          'WORKER_TOKEN_SCOPE',
          'A worker token may only call the lease, compatibility and workflow declaration routes',
        );
      }
      request.auth = 'bearer';
      request.workerToken = worker;
      return;
    }
    const session = sessions ? request.cookies?.[sessions.cookieName] : undefined;
    if (sessions && session !== undefined && (await sessions.verifySession(session))) {
      if (!isSameOriginRequest(request)) {
        throw new HttpError(
          403,
          'CROSS_ORIGIN',
          'A session cookie is accepted only from the Taskdock UI itself',
        );
      }
      request.auth = 'cookie';
      return;
    }
    throw new HttpError(
      401,
      'UNAUTHORIZED',
      session === undefined
        ? 'Missing bearer token or session: open Taskdock from the app or the link printed by `npm run serve`'
        : 'Session expired or ended: open Taskdock from the app or the link printed by `npm run serve`',
    );
  });
}
