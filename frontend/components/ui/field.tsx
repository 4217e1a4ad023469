import type { ReactNode } from 'react';
import { XCircleIcon } from './icons';

/** Label, control, hint and the inline error, wired for screen readers by `id`. */
export function Field({
  id,
  label,
  type,
  required,
  hint,
  error,
  children,
  className,
}: {
  id: string;
  label: ReactNode;
  type?: ReactNode;
  required?: boolean;
  hint?: ReactNode;
  error?: string;
  children: ReactNode;
  className?: string;
}) {
  return (
    <div className={['field', className].filter(Boolean).join(' ')}>
      <label className="field-label" htmlFor={id}>
        {label}
        {required && (
          <span className="required" title="required">
            *
          </span>
        )}
        {type && <span className="field-type">{type}</span>}
      </label>
      {children}
      {error ? (
        <span className="field-error" id={`${id}-error`}>
          <XCircleIcon width={13} height={13} />
          {error}
        </span>
      ) : (
        hint && (
          <span className="field-hint" id={`${id}-hint`}>
            {hint}
          </span>
        )
      )}
    </div>
  );
}

/** aria props for the control inside a Field. */
export const describedBy = (id: string, error?: string, hint?: ReactNode) => ({
  'aria-invalid': error ? (true as const) : undefined,
  'aria-describedby': error ? `${id}-error` : hint ? `${id}-hint` : undefined,
});
