import type { FastifyInstance, FastifyRequest } from 'fastify';

/** A decimal number as typed in a URL: `50`, `-1`, `2.5` (not `1e3`, `0x10`, ` 5` or ``). */
const DECIMAL = /^-?[0-9]+(?:\.[0-9]+)?$/;

interface QuerySchema {
  readonly properties?: Record<string, { readonly type?: unknown }>;
}

/**
 * Schemas never coerce (a body's `"5"` for a number is an error), but a query string holds only
 * text: its numbers are read here, by the route's own schema. Each property declared `integer`
 * or `number` that holds a decimal becomes a number before validation; nothing else changes, so
 * `limit=abc` or `limit=1&limit=2` still fail validation.
 */
export function registerQueryNumbers(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const schema = route.schema?.querystring as QuerySchema | undefined;
    const numeric = Object.entries(schema?.properties ?? {})
      .filter(([, property]) => property.type === 'integer' || property.type === 'number')
      .map(([name]) => name);
    if (numeric.length === 0) return;
    const readNumbers = async (request: FastifyRequest) => {
      const query = request.query as Record<string, unknown>;
      for (const name of numeric) {
        const value = query[name];
        if (typeof value === 'string' && DECIMAL.test(value)) query[name] = Number(value);
      }
    };
    route.preValidation = [route.preValidation ?? [], readNumbers].flat();
  });
}
