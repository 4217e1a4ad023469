import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SIGN_IN_QUERY_PARAM, signInMessage } from '../contract/session.ts';

/** Nonces the supervisor makes are 16 random bytes; the check accepts a bounded alphabet only. */
const NONCE = /^[A-Za-z0-9_-]{16,128}$/;

const hmac = (nonce: string, token: string) =>
  createHmac('sha256', token).update(signInMessage(nonce)).digest();

/**
 * The one-time sign-in link (docs/desktop.md): `<apiUrl>/?login=<nonce>.<sig>` with
 * sig = base64url(HMAC-SHA256(key = API token, message = `taskdock-login:<nonce>`)).
 * The backend checks it with the token it already has (no state shared with the supervisor,
 * valid across backend restarts), accepts each nonce once, sets the HttpOnly SameSite=Strict
 * session cookie and redirects (backend/src/plugins/session.ts). Each call makes a new link:
 * runtime.json, the terminal and each Electron window get their own.
 */
export function createSignInUrl(apiUrl: string, token: string): string {
  const nonce = randomBytes(16).toString('base64url');
  return `${apiUrl}/?${SIGN_IN_QUERY_PARAM}=${nonce}.${signLoginNonce(nonce, token)}`;
}

export function signLoginNonce(nonce: string, token: string): string {
  return hmac(nonce, token).toString('base64url');
}

/** The nonce of a well-signed `login` value (`<nonce>.<sig>`), else null; compared in constant time. */
export function verifySignInValue(value: string, token: string): string | null {
  const [nonce, signature, extra] = value.split('.');
  if (!nonce || !signature || extra !== undefined || !NONCE.test(nonce)) return null;
  const expected = hmac(nonce, token);
  const given = Buffer.from(signature, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected) ? nonce : null;
}
