import type { Server } from 'node:http';
import { type FieldError, pointerSegment } from '@taskdock/shared/contract';
import type { FastifyHttpOptions, FastifyInstance } from 'fastify';
import type { HttpLimits } from '../http-limits.ts';
import { createClientErrorHandler, createFrameworkErrorHandler } from './errors.ts';
import { HttpError } from './http-error.ts';

/** The Fastify and Node server options that bound every request, answers in our error shape. */
export function httpServerOptions(limits: HttpLimits) {
  return {
    // Counted until the request is fully received, so it never cuts a long SSE response.
    requestTimeout: limits.requestTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
    },
    routerOptions: { maxParamLength: limits.maxParamLength },
    frameworkErrors: createFrameworkErrorHandler(limits),
    clientErrorHandler: createClientErrorHandler(limits),
  } satisfies FastifyHttpOptions<Server>;
}

interface Container {
  readonly value: object;
  readonly depth: number;
  readonly parent: Container | undefined;
  readonly key: string;
}

/**
 * The JSON pointer of the first object or array nested deeper than `maxDepth` (the top level is
 * depth 1), else undefined. Iterative: a 10,000-level body costs a loop, not the stack.
 */
export function tooDeepAt(value: unknown, maxDepth: number): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const stack: Container[] = [{ value, depth: 1, parent: undefined, key: '' }];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node.depth > maxDepth) {
      const segments: string[] = [];
      for (let at: Container | undefined = node; at?.parent; at = at.parent) {
        segments.push(pointerSegment(at.key));
      }
      return segments.length === 0 ? '' : `/${segments.reverse().join('/')}`;
    }
    for (const [key, child] of Object.entries(node.value)) {
      if (child !== null && typeof child === 'object') {
        stack.push({ value: child, depth: node.depth + 1, parent: node, key });
      }
    }
  }
  return undefined;
}

/**
 * The URL length check (the router has no option for it) and the JSON body parser: Fastify's own
 * (it refuses `__proto__` poisoning), an empty body as "no body", and bounded nesting checked
 * before validation recurses into it.
 */
export function registerRequestLimits(app: FastifyInstance, limits: HttpLimits): void {
  app.addHook('onRequest', async (request) => {
    if (request.url.length > limits.maxUrlLength) {
      throw new HttpError(
        414,
        'URL_TOO_LONG',
        `The request URL is longer than ${limits.maxUrlLength} characters`,
      );
    }
  });

  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  // An empty body with a JSON content type (common for POST …/cancel) means "no body".
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, text, done) => {
    if (text === '') return done(null, undefined);
    parseJson(request, text as string, (err, body) => {
      if (err) {
        return done(
          new HttpError(
            400,
            'INVALID_JSON',
            'Request body is not valid JSON (or names __proto__ / constructor.prototype)',
          ),
          undefined,
        );
      }
      const at = tooDeepAt(body, limits.maxJsonDepth);
      if (at === undefined) return done(null, body);
      const path = `/body${at}`;
      const message = `nests objects and arrays deeper than ${limits.maxJsonDepth} levels`;
      const details: FieldError[] = [{ path, message }];
      done(
        new HttpError(400, 'JSON_TOO_DEEP', `Invalid request: ${path} ${message}`, details),
        undefined,
      );
    });
  });
}
