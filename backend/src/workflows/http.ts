import { Type } from '@sinclair/typebox';
import { defineWorkflow, TaskFailure } from './workflow.ts';

const MAX_BODY_CHARS = 64 * 1024;

export const httpWorkflow = defineWorkflow({
  name: 'http',
  description: 'Sends one HTTP request; fails on an unexpected status.',
  paramsSchema: Type.Object(
    {
      url: Type.String({ pattern: '^https?://', maxLength: 8192 }),
      method: Type.Optional(
        Type.Union(
          ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((m) => Type.Literal(m)),
          { default: 'GET' },
        ),
      ),
      headers: Type.Optional(Type.Record(Type.String(), Type.String())),
      body: Type.Optional(
        Type.Unknown({ description: 'a string is sent as is, anything else as JSON' }),
      ),
      expectStatus: Type.Optional(
        Type.Union(
          [
            Type.Integer({ minimum: 100, maximum: 599 }),
            Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1 }),
          ],
          { description: 'accepted status codes; default any 2xx' },
        ),
      ),
    },
    { additionalProperties: false },
  ),
  async run({ params, signal, log }) {
    const headers = new Headers(params.headers);
    let body: string | undefined;
    if (params.body !== undefined) {
      body = typeof params.body === 'string' ? params.body : JSON.stringify(params.body);
      if (typeof params.body !== 'string' && !headers.has('content-type')) {
        headers.set('content-type', 'application/json');
      }
    }
    log(`${params.method} ${params.url}`, 'system');
    let response: Response;
    try {
      response = await fetch(params.url, { method: params.method ?? 'GET', headers, body, signal });
    } catch (err) {
      if (signal.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new TaskFailure(
        `Request failed: ${cause?.message ?? (err as Error).message}`,
        cause?.code ?? 'HTTP_REQUEST_FAILED',
      );
    }
    const text = await response.text();
    const truncated = text.length > MAX_BODY_CHARS;
    const capped = truncated ? text.slice(0, MAX_BODY_CHARS) : text;
    let parsed: unknown = capped;
    if (!truncated && response.headers.get('content-type')?.includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON after all: keep the text.
      }
    }
    const expected = params.expectStatus;
    const ok =
      expected === undefined
        ? response.ok
        : (Array.isArray(expected) ? expected : [expected]).includes(response.status);
    log(`→ ${response.status} (${text.length} bytes)`, 'system');
    if (!ok) {
      throw new TaskFailure(
        `Unexpected status ${response.status} from ${params.method} ${params.url}`,
        'HTTP_STATUS',
      );
    }
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: parsed,
      ...(truncated ? { truncated: true } : {}),
    };
  },
});
