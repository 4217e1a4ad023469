import type { ReactNode } from 'react';
import { AlertIcon, InfoIcon, XCircleIcon } from './icons';

export function Callout({
  tone = 'info',
  title,
  children,
  action,
}: {
  tone?: 'info' | 'warning' | 'error';
  title?: ReactNode;
  children?: ReactNode;
  action?: ReactNode;
}) {
  const Icon = tone === 'error' ? XCircleIcon : tone === 'warning' ? AlertIcon : InfoIcon;
  return (
    <div className={`callout callout-${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      <Icon />
      <div className="callout-body">
        {title && <p className="callout-title">{title}</p>}
        {children && <div>{children}</div>}
      </div>
      {action}
    </div>
  );
}
