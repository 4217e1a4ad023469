'use client';

import type { ReactNode } from 'react';
import { AppShell } from '@/components/app-shell';
import { LiveEventsProvider } from '@/components/live-events';
import { SessionGate } from '@/components/session-gate';
import { ConfirmProvider } from '@/components/ui/confirm-dialog';
import { ToastProvider } from '@/components/ui/toast';

/** Every page behind the session: one live event stream, one shell, one confirm dialog. */
export default function DashboardLayout({ children }: { children: ReactNode }) {
  return (
    <SessionGate>
      <LiveEventsProvider>
        <ToastProvider>
          <ConfirmProvider>
            <AppShell>{children}</AppShell>
          </ConfirmProvider>
        </ToastProvider>
      </LiveEventsProvider>
    </SessionGate>
  );
}
