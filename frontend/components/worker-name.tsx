import type { WorkerInfo } from '@taskdock/shared/contract';
import { RelativeTime } from './relative-time';
import { Badge } from './ui/badge';
import { ServerIcon } from './ui/icons';

/**
 * A worker as the workers table names it: host and pid for a local worker; for a remote one
 * (HTTP leases) its id, address and token, with "lost" once a lease of it expired.
 */
export function WorkerName({ worker }: { worker: WorkerInfo }) {
  const icon = <ServerIcon width={13} height={13} style={{ verticalAlign: -2, marginRight: 6 }} />;
  const { remote } = worker;
  if (!remote) {
    return (
      <div className="mono nowrap" title={worker.id}>
        {icon}
        {worker.host}:{worker.pid}
      </div>
    );
  }
  return (
    <div>
      <div className="mono nowrap" title={`remote worker ${worker.id}`}>
        {icon}
        {worker.id} <Badge title="Leases tasks over HTTP (docs/remote-workers.md)">remote</Badge>{' '}
        {remote.lost && (
          <Badge tone="red" title="A lease of it expired: it stopped calling while holding a task">
            lost
          </Badge>
        )}
      </div>
      <div className="muted nowrap">
        {remote.address}
        {remote.tokenName ? ` · token ${remote.tokenName}` : ' · main token'} · {remote.leases}{' '}
        {remote.leases === 1 ? 'lease' : 'leases'} · heartbeat{' '}
        <RelativeTime iso={remote.lastHeartbeatAt} />
      </div>
    </div>
  );
}
