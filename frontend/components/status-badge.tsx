import type { ServiceStatus, TaskStatus } from '@taskdock/shared/contract';
import { Badge, type Tone } from './ui/badge';

export const TASK_STATUS_TONE: Record<TaskStatus, Tone> = {
  queued: 'gray',
  scheduled: 'violet',
  running: 'blue',
  completed: 'green',
  failed: 'red',
  cancelled: 'amber',
};

/** The same colours as the badges, for charts and legends. */
export const TASK_STATUS_COLOR: Record<TaskStatus, string> = {
  queued: 'var(--muted)',
  scheduled: 'var(--violet)',
  running: 'var(--blue)',
  completed: 'var(--chart-completed)',
  failed: 'var(--chart-failed)',
  cancelled: 'var(--chart-cancelled)',
};

export function TaskStatusBadge({ status }: { status: TaskStatus }) {
  return (
    <Badge tone={TASK_STATUS_TONE[status]} dot pulse={status === 'running'}>
      {status}
    </Badge>
  );
}

const SERVICE_TONE: Record<ServiceStatus, Tone> = {
  pending: 'gray',
  starting: 'blue',
  running: 'green',
  restarting: 'amber',
  stopping: 'amber',
  stopped: 'gray',
  failed: 'red',
  external: 'violet',
  unused: 'gray',
};

export function ServiceStatusBadge({ status }: { status: ServiceStatus }) {
  return (
    <Badge tone={SERVICE_TONE[status]} dot pulse={status === 'starting' || status === 'restarting'}>
      {status === 'unused' ? 'not used' : status}
    </Badge>
  );
}
