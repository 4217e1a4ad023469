// Event ids (SSE `id:` and Last-Event-ID): `1700000000000-0`, two unsigned 64-bit numbers, as
// Redis stream ids are; any engine hands out ids of this shape, in increasing order.

const MAX_ID_PART = 2n ** 64n - 1n;

export const isEventId = (id: string) =>
  /^\d{1,20}-\d{1,20}$/.test(id) && id.split('-').every((part) => BigInt(part) <= MAX_ID_PART);

/** Orders two event ids (negative: `a` is older). */
export function compareEventIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map(BigInt);
  const [bm = 0n, bs = 0n] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}
