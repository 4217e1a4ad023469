'use client';

import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react';

interface Toast {
  readonly id: number;
  readonly text: ReactNode;
  readonly tone: 'info' | 'success' | 'error';
}

type Show = (text: ReactNode, tone?: Toast['tone']) => void;

const ToastContext = createContext<Show>(() => {});

export const useToast = () => useContext(ToastContext);

let nextId = 1;

/** Short confirmations ("Cancelled 3 tasks"), announced to screen readers. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const show = useCallback<Show>((text, tone = 'info') => {
    const id = nextId++;
    setToasts((current) => [...current.slice(-3), { id, text, tone }]);
    setTimeout(
      () => setToasts((current) => current.filter((t) => t.id !== id)),
      tone === 'error' ? 8000 : 4000,
    );
  }, []);
  const value = useMemo(() => show, [show]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="toasts" aria-live="polite">
        {toasts.map((toast) => (
          <div key={toast.id} className={`toast toast-${toast.tone}`}>
            <span
              className={`dot ${toast.tone === 'error' ? 'dot-red' : toast.tone === 'success' ? 'dot-green' : ''}`}
            />
            <div>{toast.text}</div>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
