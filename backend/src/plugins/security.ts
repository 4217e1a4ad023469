import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TaskdockError } from '../tasks/errors.ts';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const PUBLIC_PATHS = new Set(['/api/health']);

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

/** Host check on every request; bearer token on every /api route but liveness. */
export function registerSecurity(app: FastifyInstance, token: string): void {
  app.addHook('onRequest', async (request) => {
    if (!isLoopbackHost(request.headers.host)) {
      throw new TaskdockError(
        403,
        'FORBIDDEN_HOST',
        'Taskdock answers only to loopback host names',
      );
    }
    const path = request.url.split('?')[0] ?? '';
    if (!path.startsWith('/api/') && path !== '/metrics') return;
    if (PUBLIC_PATHS.has(path)) return;
    const given = bearerToken(request);
    if (given === undefined || !sameSecret(given, token)) {
      throw new TaskdockError(
        401,
        'UNAUTHORIZED',
        given === undefined ? 'Missing bearer token' : 'Invalid bearer token',
      );
    }
  });
}
