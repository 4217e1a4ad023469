const numberFormat = new Intl.NumberFormat('en-US');
const compactFormat = new Intl.NumberFormat('en-US', {
  notation: 'compact',
  maximumFractionDigits: 1,
});

export const formatNumber = (n: number) => numberFormat.format(n);
export const formatCompact = (n: number) =>
  n < 10_000 ? numberFormat.format(n) : compactFormat.format(n);

export function formatRate(perMinute: number): string {
  if (perMinute === 0) return '0';
  if (perMinute < 10) return perMinute.toFixed(1);
  return formatCompact(Math.round(perMinute));
}

/** 850 ms, 12.3 s, 4 min 05 s, 3 h 12 min, 2 d 4 h */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.floor(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto', style: 'short' });

/** "12 s ago", "in 3 min", "2 days ago". */
export function formatRelative(iso: string | undefined | null, now = Date.now()): string {
  if (!iso) return '—';
  const diff = Date.parse(iso) - now;
  if (!Number.isFinite(diff)) return '—';
  const abs = Math.abs(diff);
  if (abs < 5000) return 'just now';
  if (abs < 60_000) return relative.format(Math.round(diff / 1000), 'second');
  if (abs < 3_600_000) return relative.format(Math.round(diff / 60_000), 'minute');
  if (abs < 86_400_000) return relative.format(Math.round(diff / 3_600_000), 'hour');
  return relative.format(Math.round(diff / 86_400_000), 'day');
}

const time = { hour: '2-digit', minute: '2-digit', second: '2-digit' } as const;
const dateTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', ...time });
const dateTimeWithYear = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  ...time,
});

/** "Nov 23, 17:20:53" (the year only when it is not this one). */
export function formatDateTime(iso: string | undefined | null): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '—';
  const sameYear = new Date(t).getFullYear() === new Date().getFullYear();
  return (sameYear ? dateTime : dateTimeWithYear).format(t);
}

/** HH:MM:SS.mmm in local time, for log lines. */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** `shell:1234` stays whole; long BullMQ ids are shortened in the middle. */
export function shortId(id: string, max = 28): string {
  if (id.length <= max) return id;
  const keep = Math.floor((max - 1) / 2);
  return `${id.slice(0, keep)}…${id.slice(-keep)}`;
}

export const plural = (n: number, one: string, many = `${one}s`) =>
  `${formatNumber(n)} ${n === 1 ? one : many}`;
