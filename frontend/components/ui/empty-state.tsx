import type { ReactNode } from 'react';
import { InboxIcon } from './icons';

export function EmptyState({
  icon = <InboxIcon />,
  title,
  children,
  actions,
}: {
  icon?: ReactNode;
  title: ReactNode;
  children?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <div className="empty">
      {icon}
      <h3>{title}</h3>
      {children && <div className="prose">{children}</div>}
      {actions && <div className="empty-actions">{actions}</div>}
    </div>
  );
}
