import type { FastifyError, FastifyInstance } from 'fastify';
import type { ErrorBody, FieldError } from '../contract/index.ts';
import { TaskdockError } from '../tasks/errors.ts';

const CODES_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
};

const body = (code: string, message: string, details?: unknown): ErrorBody => ({
  error: details === undefined ? { code, message } : { code, message, details },
});

/** Every error leaves as `{ error: { code, message, details? } }`; a 5xx never shows internals. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof TaskdockError) {
      return reply.status(err.statusCode).send(body(err.code, err.message, err.details));
    }
    if (err.validation) {
      const details: FieldError[] = err.validation.map((v) => {
        const params = v.params as { missingProperty?: string; additionalProperty?: string };
        const extra = params.missingProperty ?? params.additionalProperty;
        return {
          path: `/${err.validationContext ?? 'body'}${v.instancePath}${extra ? `/${extra}` : ''}`,
          message: v.message ?? 'is invalid',
        };
      });
      const summary = details.map((d) => `${d.path} ${d.message}`).join('; ');
      return reply
        .status(400)
        .send(body('VALIDATION_FAILED', `Invalid request: ${summary}`, details));
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code =
        err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError
          ? 'INVALID_JSON'
          : (CODES_BY_STATUS[status] ?? 'BAD_REQUEST');
      const message = status === 413 ? 'Request body is larger than the 1 MiB limit' : err.message;
      return reply.status(status).send(body(code, message));
    }
    request.log.error({ err }, 'request failed');
    return reply.status(500).send(body('INTERNAL', 'Internal error; see the backend log'));
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(body('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`)),
  );
}
