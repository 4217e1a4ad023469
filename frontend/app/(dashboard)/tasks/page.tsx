import type { Metadata } from 'next';
import { Suspense } from 'react';
import { TaskListView } from '@/components/task-list-view';

export const metadata: Metadata = { title: 'Tasks' };

export default function TasksPage() {
  return (
    <Suspense>
      <TaskListView />
    </Suspense>
  );
}
