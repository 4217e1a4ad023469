/** Longest request target (path and query) the API reads; longer is a 414. */
export const MAX_URL_LENGTH = 8 * 1024;
/**
 * Longest single path parameter (e.g. a task id) the router matches; longer is a 414. Far above
 * the longest id Taskdock makes (TASK_ID_MAX_LENGTH, 300), even fully percent-encoded (×3).
 */
export const MAX_PARAM_LENGTH = 1024;

/** Request line plus headers; more is a 431 (Node's own default, stated here). */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Time for a client to send all its headers; slower is a 408 and the connection closes. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Time for a client to send its whole request, body included; slower is a 408 (slow-loris). */
export const REQUEST_TIMEOUT_MS = 30_000;
/** How often Node looks for requests past those timeouts: the cut-off comes this much late at most. */
export const TIMEOUT_CHECK_INTERVAL_MS = 1000;
/** Deepest nesting of objects and arrays in a JSON body; deeper is a 400 before validation. */
export const MAX_JSON_DEPTH = 64;
/** An SSE client that lets this much pile up unread is dropped at once (it resumes by id). */
export const SSE_MAX_UNSENT_BYTES = 1024 * 1024;
/** Unsent bytes above which an SSE client counts as not reading… */
export const SSE_STALL_BYTES = 64 * 1024;
/** …and how long it may stay so before it is disconnected. */
export const SSE_STALL_MS = 30_000;

/** What the HTTP edge accepts; `buildApp` takes overrides (tests use small values). */
export interface HttpLimits {
  readonly maxUrlLength: number;
  readonly maxParamLength: number;
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly timeoutCheckIntervalMs: number;
  readonly maxJsonDepth: number;
  readonly sseMaxUnsentBytes: number;
  readonly sseStallBytes: number;
  readonly sseStallMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = Object.freeze({
  maxUrlLength: MAX_URL_LENGTH,
  maxParamLength: MAX_PARAM_LENGTH,
  maxHeaderBytes: MAX_HEADER_BYTES,
  headersTimeoutMs: HEADERS_TIMEOUT_MS,
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
  timeoutCheckIntervalMs: TIMEOUT_CHECK_INTERVAL_MS,
  maxJsonDepth: MAX_JSON_DEPTH,
  sseMaxUnsentBytes: SSE_MAX_UNSENT_BYTES,
  sseStallBytes: SSE_STALL_BYTES,
  sseStallMs: SSE_STALL_MS,
});

/** The defaults with `overrides`; a limit that is not a positive integer throws at once. */
export function resolveHttpLimits(overrides: Partial<HttpLimits> = {}): HttpLimits {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...overrides };
  const bad = Object.entries(limits).filter(([, v]) => !Number.isSafeInteger(v) || v < 1);
  if (bad.length > 0) {
    throw new Error(`HTTP limits must be positive integers: ${bad.map(([k, v]) => `${k}=${v}`)}`);
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new Error('headersTimeoutMs must not exceed requestTimeoutMs (Node requires it)');
  }
  return Object.freeze(limits);
}
