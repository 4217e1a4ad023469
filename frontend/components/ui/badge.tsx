import type { ReactNode } from 'react';

export type Tone = 'gray' | 'green' | 'blue' | 'amber' | 'red' | 'violet';

export function Badge({
  tone = 'gray',
  dot = false,
  pulse = false,
  children,
  title,
}: {
  tone?: Tone;
  dot?: boolean;
  pulse?: boolean;
  children: ReactNode;
  title?: string;
}) {
  const className = ['badge', tone !== 'gray' && `badge-${tone}`, pulse && 'badge-pulse']
    .filter(Boolean)
    .join(' ');
  return (
    <span className={className} title={title}>
      {dot && <span className="dot" aria-hidden="true" />}
      {children}
    </span>
  );
}
