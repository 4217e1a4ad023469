'use client';

import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useId,
  useRef,
  useState,
} from 'react';
import { Button } from './button';

export interface ConfirmOptions {
  readonly title: ReactNode;
  readonly body?: ReactNode;
  /** The button that goes ahead, e.g. "Cancel task", "Delete 3 tasks". */
  readonly confirmLabel: string;
  /** The button that backs out. */
  readonly keepLabel?: string;
  readonly tone?: 'danger' | 'primary';
}

type Confirm = (options: ConfirmOptions) => Promise<boolean>;

const ConfirmContext = createContext<Confirm>(async () => false);

/** `await confirm({ … })` is true when the user chose to go ahead (a modal, Escape backs out). */
export const useConfirm = () => useContext(ConfirmContext);

interface Pending extends ConfirmOptions {
  readonly resolve: (ok: boolean) => void;
}

/** One modal `<dialog>` for the app: focus moves into it and back to where it was. */
export function ConfirmProvider({ children }: { children: ReactNode }) {
  const [pending, setPending] = useState<Pending | null>(null);
  const dialogRef = useRef<HTMLDialogElement>(null);
  const returnFocus = useRef<HTMLElement | null>(null);
  const titleId = useId();
  const bodyId = useId();

  const confirm = useCallback<Confirm>(
    (options) =>
      new Promise<boolean>((resolve) => {
        returnFocus.current =
          document.activeElement instanceof HTMLElement ? document.activeElement : null;
        setPending({ ...options, resolve });
      }),
    [],
  );

  useEffect(() => {
    const dialog = dialogRef.current;
    if (pending && dialog && !dialog.open) dialog.showModal();
  }, [pending]);

  const settle = (ok: boolean) => {
    if (!pending) return;
    pending.resolve(ok);
    setPending(null);
    dialogRef.current?.close();
    returnFocus.current?.focus();
  };

  return (
    <ConfirmContext.Provider value={confirm}>
      {children}
      <dialog
        ref={dialogRef}
        className="dialog"
        aria-labelledby={titleId}
        aria-describedby={pending?.body ? bodyId : undefined}
        onCancel={(event) => {
          event.preventDefault();
          settle(false);
        }}
      >
        {pending && (
          <form
            method="dialog"
            onSubmit={(event) => {
              event.preventDefault();
              settle(true);
            }}
          >
            <h2 id={titleId} className="dialog-title">
              {pending.title}
            </h2>
            {pending.body && (
              <div id={bodyId} className="dialog-body">
                {pending.body}
              </div>
            )}
            <div className="dialog-actions">
              {/* Backing out is the default: Enter on a fresh dialog does no harm. */}
              <Button autoFocus onClick={() => settle(false)}>
                {pending.keepLabel ?? 'Keep it'}
              </Button>
              <Button type="submit" variant={pending.tone ?? 'danger'}>
                {pending.confirmLabel}
              </Button>
            </div>
          </form>
        )}
      </dialog>
    </ConfirmContext.Provider>
  );
}
