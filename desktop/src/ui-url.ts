import { createHmac, randomBytes } from 'node:crypto';
import { SIGN_IN_QUERY_PARAM, signInMessage } from '@taskdock/shared/contract';

/**
 * The one-time sign-in link (docs/desktop.md), built in this one place: `<apiUrl>/?login=<nonce>.<sig>`
 * with sig = base64url(HMAC-SHA256(key = API token, message = `taskdock-login:<nonce>`)).
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
  return createHmac('sha256', token).update(signInMessage(nonce)).digest('base64url');
}
