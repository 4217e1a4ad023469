'use client';

import { SIGN_IN_FAILED_PARAM } from '@taskdock/shared/contract';
import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { ApiError, api, errorMessage, onUnauthorized } from '@/lib/api-client';
import { SignedOut } from './signed-out';
import { Button } from './ui/button';
import { Callout } from './ui/callout';
import { BrandMark } from './ui/icons';
import { Loading } from './ui/spinner';

type Gate =
  | { state: 'checking' }
  | { state: 'ok' }
  | { state: 'signed-out'; reason: 'invalid' | 'expired' | null }
  | { state: 'offline'; message: string };

/** Asks `/api/session` once, then renders the app, or the sign-in help on any 401. */
export function SessionGate({ children }: { children: ReactNode }) {
  const [gate, setGate] = useState<Gate>({ state: 'checking' });

  const check = useCallback(async () => {
    setGate({ state: 'checking' });
    const params = new URLSearchParams(window.location.search);
    const failed = params.get(SIGN_IN_FAILED_PARAM) === 'invalid';
    try {
      await api.session();
      if (failed) {
        params.delete(SIGN_IN_FAILED_PARAM);
        const search = params.toString();
        window.history.replaceState(
          null,
          '',
          `${window.location.pathname}${search ? `?${search}` : ''}`,
        );
      }
      setGate({ state: 'ok' });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        setGate({ state: 'signed-out', reason: failed ? 'invalid' : null });
      } else {
        setGate({ state: 'offline', message: errorMessage(err) });
      }
    }
  }, []);

  useEffect(() => {
    void check();
  }, [check]);

  useEffect(
    () =>
      onUnauthorized(() =>
        setGate((current) =>
          current.state === 'ok' ? { state: 'signed-out', reason: 'expired' } : current,
        ),
      ),
    [],
  );

  switch (gate.state) {
    case 'ok':
      return <>{children}</>;
    case 'signed-out':
      return <SignedOut reason={gate.reason} />;
    case 'checking':
      return (
        <main className="gate" aria-busy="true">
          <div className="gate-card">
            <BrandMark width={32} height={32} />
            <Loading label="Connecting to Taskdock…" />
          </div>
        </main>
      );
    case 'offline':
      return (
        <main className="gate">
          <div className="card gate-card">
            <BrandMark width={32} height={32} />
            <h1>Taskdock is not answering</h1>
            <Callout tone="error" title="The backend could not be reached">
              {gate.message}. If you closed the app or stopped <code>npm run serve</code>, start it
              again and open the new link.
            </Callout>
            <div>
              <Button variant="primary" onClick={() => void check()}>
                Try again
              </Button>
            </div>
          </div>
        </main>
      );
  }
}
