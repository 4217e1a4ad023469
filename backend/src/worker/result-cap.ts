import { utf8Prefix } from '../workflows/output-lines.ts';

/** Room for the wrapper's own fields (`truncated`, `bytes`, quotes) around the preview. */
const WRAPPER_BYTES = 128;

export interface CappedResult {
  truncated: true;
  /** Size of the whole result as JSON. */
  bytes: number;
  /** The start of that JSON, as text. */
  preview: string;
}

/**
 * `value` if its JSON fits in `maxBytes`, else `{ truncated, bytes, preview }` that does: what
 * BullMQ stores (and lists, events and the UI read) stays bounded whatever a workflow returns.
 */
export function capResult(value: unknown, maxBytes: number): unknown {
  const json = JSON.stringify(value);
  if (json === undefined || json.length * 3 <= maxBytes) return value;
  const bytes = Buffer.from(json);
  if (bytes.length <= maxBytes) return value;
  // Escaping the preview again at most doubles it (every `"` and `\` gains a backslash).
  const capped: CappedResult = {
    truncated: true,
    bytes: bytes.length,
    preview: utf8Prefix(bytes, Math.floor((maxBytes - WRAPPER_BYTES) / 2)),
  };
  return capped;
}
