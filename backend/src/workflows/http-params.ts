import { validateHeaderName, validateHeaderValue } from 'node:http';
import { type Static, Type } from '@sinclair/typebox';
import { type FieldError, pointerSegment } from '@taskdock/shared/contract';

export const HTTP_LIMITS = {
  urlChars: 8192,
  headers: 100,
  headerValueChars: 8192,
  expectStatuses: 100,
} as const;

export const HttpParams = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', maxLength: HTTP_LIMITS.urlChars }),
    method: Type.Optional(
      Type.Union(
        ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((m) => Type.Literal(m)),
        { default: 'GET' },
      ),
    ),
    headers: Type.Optional(
      Type.Record(Type.String(), Type.String({ maxLength: HTTP_LIMITS.headerValueChars }), {
        maxProperties: HTTP_LIMITS.headers,
        description: 'names are RFC 7230 tokens; values hold no CR, LF or NUL',
      }),
    ),
    body: Type.Optional(
      Type.Unknown({ description: 'a string is sent as is, anything else as JSON' }),
    ),
    expectStatus: Type.Optional(
      Type.Union(
        [
          Type.Integer({ minimum: 100, maximum: 599 }),
          Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), {
            minItems: 1,
            maxItems: HTTP_LIMITS.expectStatuses,
          }),
        ],
        { description: 'accepted status codes; default any 2xx' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type HttpParams = Static<typeof HttpParams>;

/** Whether Node's HTTP rules accept it (RFC 7230 token / field value), else false. */
const passes = (check: () => void) => {
  try {
    check();
    return true;
  } catch {
    return false;
  }
};

/** A URL that does not parse or a header fetch would refuse, found at create time. */
export function checkHttpParams(params: HttpParams): FieldError[] {
  const errors: FieldError[] = [];
  if (!URL.canParse(params.url)) errors.push({ path: '/url', message: 'is not a valid URL' });
  for (const [name, value] of Object.entries(params.headers ?? {})) {
    const at = `/headers/${pointerSegment(name)}`;
    if (!passes(() => validateHeaderName(name))) {
      errors.push({
        path: at,
        message: "is not a valid header name (RFC 7230 token: letters, digits and !#$%&'*+-.^_`|~)",
      });
    } else if (!passes(() => validateHeaderValue(name, value))) {
      errors.push({
        path: at,
        message:
          'is not a valid header value (tab, printable ASCII and Latin-1 only: no CR, LF or NUL)',
      });
    }
  }
  return errors;
}
