import { checkHttpParams, HttpParams } from './http-params.ts';
import { defineWorkflow, TaskFailure } from './workflow.ts';

/**
 * Reads at most `maxBytes` of a response body, then cancels the stream (the rest is never
 * downloaded). `complete` says whether that was the whole body.
 */
async function readBody(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<{ bytes: Buffer; complete: boolean }> {
  if (!body) return { bytes: Buffer.alloc(0), complete: true };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes: Buffer.concat(chunks, size), complete: true };
      if (size + value.byteLength > maxBytes) {
        chunks.push(value.subarray(0, maxBytes - size));
        return { bytes: Buffer.concat(chunks, maxBytes), complete: false };
      }
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

export const httpWorkflow = defineWorkflow({
  name: 'http',
  description: 'Sends one HTTP request; fails on an unexpected status.',
  paramsSchema: HttpParams,
  checkParams: checkHttpParams,
  async run({ params, signal, log, limits }) {
    const headers = new Headers(params.headers);
    let body: string | undefined;
    if (params.body !== undefined) {
      body = typeof params.body === 'string' ? params.body : JSON.stringify(params.body);
      if (typeof params.body !== 'string' && !headers.has('content-type')) {
        headers.set('content-type', 'application/json');
      }
    }
    await log(`${params.method} ${params.url}`, 'system');
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
    const { bytes, complete } = await readBody(response.body, limits.httpBodyBytes);
    // Streaming mode drops a character the cap cut in half instead of showing U+FFFD.
    const text = new TextDecoder().decode(bytes, { stream: !complete });
    let parsed: unknown = text;
    if (complete && response.headers.get('content-type')?.includes('json')) {
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
    await log(
      `→ ${response.status} (${complete ? `${bytes.length} bytes` : `stopped reading at ${bytes.length} bytes`})`,
      'system',
    );
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
      ...(complete ? {} : { truncated: true, bytesRead: bytes.length }),
    };
  },
});
