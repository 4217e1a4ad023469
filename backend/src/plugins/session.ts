import { createHash, createHmac, randomBytes } from 'node:crypto';
import cookie from '@fastify/cookie';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  ErrorBody,
  SessionInfo,
  SIGN_IN_FAILED_PARAM,
  SIGN_IN_QUERY_PARAM,
} from '@taskdock/shared/contract';
import { verifySignInValue } from '@taskdock/shared/node/sign-in';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-error.ts';
import { isLoopbackHost } from './security.ts';
import type { SessionStore } from './session-store.ts';

export const DEFAULT_SESSION_TTL_MS = 30 * 24 * 3600 * 1000;

/** Session ids are stored hashed: a Redis dump or the session file holds no usable session. */
const digest = (secret: string) => createHash('sha256').update(secret).digest('hex');
const SECRET = /^[A-Za-z0-9_-]{16,128}$/;

export interface SessionManagerOptions {
  /** Redis (createRedisSessionStore) or the data dir's file in memory mode. */
  readonly store: SessionStore;
  /** The API token: it signs the links, and names the cookie per instance. */
  readonly token: string;
  readonly sessionTtlMs?: number;
}

export interface SessionManager {
  /** `taskdock_session_<instance>`: cookies are per host, not per port. */
  readonly cookieName: string;
  readonly sessionTtlMs: number;
  /** The nonce of a well-signed `login` value, else null (it may still have been used). */
  checkSignInLink(value: string): string | null;
  /** True the first time a nonce is used, false ever after. */
  useNonce(nonce: string): Promise<boolean>;
  createSession(): Promise<string>;
  verifySession(id: string): Promise<boolean>;
  endSession(id: string): Promise<void>;
}

/**
 * Links are checked with the token alone (no state shared with the supervisor, good across
 * backend restarts); used nonces and sessions live in the store, so they survive restarts too.
 */
export function createSessionManager(options: SessionManagerOptions): SessionManager {
  const { store, token } = options;
  const sessionTtlMs = options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  const instance = createHmac('sha256', token).update('taskdock-cookie').digest('hex').slice(0, 12);
  const storeDown = (err: unknown) =>
    new HttpError(
      503,
      'SESSION_STORE_UNAVAILABLE',
      `Cannot check the session: the session store is unavailable (${(err as Error).message})`,
    );

  return {
    cookieName: `taskdock_session_${instance}`,
    sessionTtlMs,
    checkSignInLink: (value) => verifySignInValue(value, token),
    async useNonce(nonce) {
      try {
        return await store.useNonce(nonce);
      } catch (err) {
        throw storeDown(err);
      }
    },
    async createSession() {
      const id = randomBytes(32).toString('base64url');
      await store.addSession(digest(id), sessionTtlMs);
      return id;
    },
    async verifySession(id) {
      if (!SECRET.test(id)) return false;
      try {
        return await store.hasSession(digest(id));
      } catch (err) {
        throw storeDown(err);
      }
    },
    async endSession(id) {
      await store.removeSession(digest(id));
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionManager;
  }
  interface FastifyContextConfig {
    /**
     * A page that cannot show yet (the UI is not built) answers false: a sign-in link to it is
     * left unused, so the same link signs in once the page can show.
     */
    signInReady?: () => Promise<boolean>;
  }
  interface FastifyRequest {
    /** Set by the security hook on authenticated /api requests. */
    auth: 'bearer' | 'cookie' | null;
  }
}

/** Cookie parsing, `app.sessions`, the sign-in link handler and the session routes. */
export async function registerSessions(
  app: FastifyInstance,
  sessions: SessionManager,
): Promise<void> {
  await app.register(cookie);
  app.decorate('sessions', sessions);
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request, reply) => {
    // A foreign Host is refused by the security hook that runs next.
    if (request.method !== 'GET' || !isLoopbackHost(request.headers.host)) return;
    const [path = '/', query = ''] = request.url.split('?', 2);
    // Pages only: decided on the route the router matched, as the request guard does.
    if (request.routeOptions.url?.startsWith('/api') || !query) return;
    const params = new URLSearchParams(query);
    const login = params.get(SIGN_IN_QUERY_PARAM);
    if (login === null) return;
    const ready = request.routeOptions.config.signInReady;
    if (ready && !(await ready())) return;
    params.delete(SIGN_IN_QUERY_PARAM);
    return signIn(request, reply, sessions, login, path, params);
  });
  await app.register(sessionRoutes);
}

/** `/?login=…`: a fresh, well-signed link sets the cookie; every outcome redirects without it. */
async function signIn(
  request: FastifyRequest,
  reply: FastifyReply,
  sessions: SessionManager,
  login: string,
  path: string,
  params: URLSearchParams,
): Promise<FastifyReply> {
  reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
  const target = (extra?: string) => {
    if (extra) params.set(SIGN_IN_FAILED_PARAM, extra);
    const search = params.toString();
    // Only a path of our own: `//evil.example` would leave the site.
    const safePath = path.startsWith('/') && !path.startsWith('//') ? path : '/';
    return search ? `${safePath}?${search}` : safePath;
  };
  const nonce = sessions.checkSignInLink(login);
  if (nonce && (await sessions.useNonce(nonce))) {
    reply.setCookie(sessions.cookieName, await sessions.createSession(), {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      // Served over TLS (TASKDOCK_TLS_CERT): the cookie never travels in clear.
      secure: request.protocol === 'https',
      maxAge: Math.floor(sessions.sessionTtlMs / 1000),
    });
    return reply.redirect(target(), 303);
  }
  // A used link in a browser that is already signed in (a second click) is fine.
  const current = request.cookies[sessions.cookieName];
  if (current && (await sessions.verifySession(current))) return reply.redirect(target(), 303);
  return reply.redirect(target('invalid'), 303);
}

const sessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { sessions } = app;

  app.get(
    '/api/session',
    {
      schema: {
        summary: 'Who is asking: 200 when signed in (cookie) or with the token, else 401',
        response: { 200: SessionInfo, 401: ErrorBody },
      },
    },
    async (request) => ({ auth: request.auth ?? 'bearer' }),
  );

  app.post(
    '/api/session/sign-out',
    {
      schema: {
        summary: 'End this browser session',
        response: { 204: Type.Null(), 401: ErrorBody },
      },
    },
    async (request, reply) => {
      const id = request.cookies[sessions.cookieName];
      if (id) await sessions.endSession(id);
      reply.clearCookie(sessions.cookieName, { path: '/', httpOnly: true, sameSite: 'strict' });
      return reply.status(204).send(null);
    },
  );
};
