import type { Metadata } from 'next';
import { Suspense } from 'react';
import { TaskDetailView } from '@/components/task-detail-view';

export const metadata: Metadata = { title: 'Task' };

/** `/tasks/detail?id=…`: a static export has no runtime routes, so the id is a query param. */
export default function TaskDetailPage() {
  return (
    <Suspense>
      <TaskDetailView />
    </Suspense>
  );
}
