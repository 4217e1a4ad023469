import type { Metadata } from 'next';
import { Suspense } from 'react';
import { LogViewerView } from '@/components/log-viewer-view';

export const metadata: Metadata = { title: 'Logs' };

export default function LogsPage() {
  return (
    <Suspense>
      <LogViewerView />
    </Suspense>
  );
}
