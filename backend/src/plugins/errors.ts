import { type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import {
  describeFieldErrors,
  type ErrorBody,
  type FieldError,
  patternMessage,
} from '@taskdock/shared/contract';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  CapacityError,
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  ReplicationTimeoutError,
  UnsupportedError,
} from '../engine/errors.ts';
import type { HttpLimits } from '../http-limits.ts';
import { HttpError } from './http-error.ts';

const CODES_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URL_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  431: 'HEADERS_TOO_LARGE',
};

export const errorBody = (code: string, message: string, details?: unknown): ErrorBody => ({
  error: details === undefined ? { code, message } : { code, message, details },
});

/**
 * An engine error as the API shows it (the one place its kinds get a status). Field paths point
 * into the request: the engine's input is the route's body, or its query string when the route
 * takes no body (`/params/ms` → `/body/params/ms`, `/cursor` → `/querystring/cursor`).
 */
function engineErrorReply(err: unknown, request: FastifyRequest): [number, ErrorBody] | null {
  if (err instanceof NotFoundError) return [404, errorBody(err.code, err.message)];
  if (err instanceof ConflictError) return [409, errorBody(err.code, err.message)];
  if (err instanceof ForbiddenError) return [403, errorBody(err.code, err.message)];
  if (err instanceof UnsupportedError) return [501, errorBody(err.code, err.message)];
  if (err instanceof CapacityError) return [503, errorBody(err.code, err.message)];
  if (err instanceof ReplicationTimeoutError) return [503, errorBody(err.code, err.message)];
  if (!(err instanceof InvalidInputError)) return null;
  const part = request.routeOptions.schema?.body === undefined ? '/querystring' : '/body';
  const answer = err.under(part);
  const details = answer.fields.length > 0 ? [...answer.fields] : undefined;
  return [400, errorBody(answer.code, answer.message, details)];
}

/** Every error leaves as `{ error: { code, message, details? } }`; a 5xx never shows internals. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof HttpError) {
      return reply.status(err.statusCode).send(errorBody(err.code, err.message, err.details));
    }
    const engine = engineErrorReply(err, request);
    if (engine) return reply.status(engine[0]).send(engine[1]);
    if (err.validation) {
      const details: FieldError[] = err.validation.map((v) => {
        const params = v.params as {
          missingProperty?: string;
          additionalProperty?: string;
          pattern?: string;
        };
        const extra = params.missingProperty ?? params.additionalProperty;
        // A pattern of the contract says what it wants in words, not as a regular expression.
        const plain = v.keyword === 'pattern' ? patternMessage(params.pattern ?? '') : undefined;
        return {
          path: `/${err.validationContext ?? 'body'}${v.instancePath}${extra ? `/${extra}` : ''}`,
          message: plain ?? v.message ?? 'is invalid',
        };
      });
      return reply
        .status(400)
        .send(
          errorBody(
            'VALIDATION_FAILED',
            `Invalid request: ${describeFieldErrors(details)}`,
            details,
          ),
        );
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code =
        err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError
          ? 'INVALID_JSON'
          : (CODES_BY_STATUS[status] ?? 'BAD_REQUEST');
      const message = status === 413 ? 'Request body is larger than the 1 MiB limit' : err.message;
      return reply.status(status).send(errorBody(code, message));
    }
    request.log.error({ err }, 'request failed');
    return reply.status(500).send(errorBody('INTERNAL', 'Internal error; see the backend log'));
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(errorBody('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`)),
  );
}

const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;

/** Errors the router raises before any route or hook runs (Fastify's `frameworkErrors`). */
export function createFrameworkErrorHandler(limits: HttpLimits) {
  return (err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void => {
    if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
      void reply
        .status(414)
        .send(
          errorBody(
            'URL_TOO_LONG',
            `A path segment is longer than ${limits.maxParamLength} characters`,
          ),
        );
    } else if (err.code === 'FST_ERR_BAD_URL') {
      void reply
        .status(400)
        .send(errorBody('BAD_URL', 'The request path holds a malformed %-escape'));
    } else {
      void reply.status(500).send(errorBody('INTERNAL', 'Internal error; see the backend log'));
    }
  };
}

/**
 * Node's HTTP parser refuses some requests before Fastify sees them (headers too large, requests
 * too slow, bytes that are not HTTP); this writes those answers in our shape on the socket.
 */
export function createClientErrorHandler(limits: HttpLimits) {
  const answers: Record<string, [number, string, string]> = {
    ERR_HTTP_REQUEST_TIMEOUT: [
      408,
      'REQUEST_TIMEOUT',
      `The request did not arrive in time (headers within ${limits.headersTimeoutMs} ms, the whole request within ${limits.requestTimeoutMs} ms)`,
    ],
    HPE_HEADER_OVERFLOW: [
      431,
      'HEADERS_TOO_LARGE',
      `The request line and headers are larger than ${kib(limits.maxHeaderBytes)}`,
    ],
    HPE_CHUNK_EXTENSIONS_OVERFLOW: [
      413,
      'PAYLOAD_TOO_LARGE',
      'The chunk extensions of the request body are too large',
    ],
  };
  return (err: NodeJS.ErrnoException, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, code, message] = answers[err.code ?? ''] ?? [
      400,
      'BAD_REQUEST',
      'The request is not valid HTTP',
    ];
    // As Node does: no answer on a connection whose response has already started.
    const current = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (socket.writable && !current?.headersSent) {
      const json = JSON.stringify(errorBody(code, message));
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
      );
    }
    socket.destroy();
  };
}
