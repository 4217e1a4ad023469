import { type Static, Type } from '@sinclair/typebox';

/**
 * Browser sign-in (SPEC 1). The supervisor prints `uiUrl` = `<apiUrl>/?login=<nonce>.<signature>`
 * (built in one place, packages/shared/src/node/sign-in.ts: signature = base64url HMAC-SHA256 with the API
 * token as key over `taskdock-login:<nonce>`). The backend checks it, accepts each nonce once,
 * sets an HttpOnly SameSite=Strict session cookie and redirects to the page without the param.
 */
export const SIGN_IN_QUERY_PARAM = 'login';
export const signInMessage = (nonce: string) => `taskdock-login:${nonce}`;

/** Set by the backend on the redirect after a refused link: `/?signin=invalid`. */
export const SIGN_IN_FAILED_PARAM = 'signin';

export const SessionInfo = Type.Object({
  /** How this request was authenticated. */
  auth: Type.Union([Type.Literal('bearer'), Type.Literal('cookie')]),
});
export type SessionInfo = Static<typeof SessionInfo>;
