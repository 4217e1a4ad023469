import type { Metadata } from 'next';
import { Suspense } from 'react';
import { NewTaskView } from '@/components/new-task-view';

export const metadata: Metadata = { title: 'New task' };

export default function NewTaskPage() {
  return (
    <Suspense>
      <NewTaskView />
    </Suspense>
  );
}
