import type { ReactNode } from 'react';

export function Card({
  title,
  actions,
  children,
  flush = false,
  className,
  id,
  labelledBy,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  /** No padding: for tables and lists that run to the edges. */
  flush?: boolean;
  className?: string;
  id?: string;
  labelledBy?: string;
}) {
  const headingId = id ? `${id}-title` : undefined;
  return (
    <section
      className={['card', className].filter(Boolean).join(' ')}
      id={id}
      aria-labelledby={labelledBy ?? (title ? headingId : undefined)}
    >
      {(title || actions) && (
        <header className="card-header">
          {title && <h2 id={headingId}>{title}</h2>}
          {actions && <div className="page-actions">{actions}</div>}
        </header>
      )}
      <div className={flush ? 'card-body-flush' : 'card-body'}>{children}</div>
    </section>
  );
}
