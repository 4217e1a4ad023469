import type { RedisServerInfo } from '@taskdock/shared/contract';
import { Callout } from './ui/callout';

const TOPOLOGIES: Record<RedisServerInfo['topology'], string> = {
  standalone: 'One server',
  sentinel: 'Primary and replicas under Sentinel',
  cluster: 'Redis Cluster',
};

/** What the backend's start probe found of its Redis: the server behind the queues. */
export function RedisServerCard({ redis }: { redis: RedisServerInfo }) {
  return (
    <section className="card" aria-labelledby="redis-server" data-redis-server>
      <header className="card-header">
        <div>
          <h2 id="redis-server">Redis server</h2>
          <span className="field-hint mono">{redis.connection}</span>
        </div>
      </header>
      <dl className="service-stats" style={{ margin: 0 }}>
        <div>
          <dt>Version</dt>
          <dd className="mono">{redis.version}</dd>
        </div>
        <div>
          <dt>Topology</dt>
          <dd>
            {TOPOLOGIES[redis.topology]}
            {redis.topology === 'cluster' ? ` (${redis.primaries} primaries)` : ''}
          </dd>
        </div>
        <div>
          <dt>Role</dt>
          <dd>
            {redis.role === 'master' ? 'primary' : 'replica'}, {redis.replicas}{' '}
            {redis.replicas === 1 ? 'replica' : 'replicas'}
          </dd>
        </div>
        <div>
          <dt>maxmemory-policy</dt>
          <dd className="mono">{redis.maxmemoryPolicy ?? 'not readable'}</dd>
        </div>
        <div>
          <dt>Persistence</dt>
          <dd style={redis.aof ? undefined : { color: 'var(--amber)' }}>
            {redis.aof ? 'AOF on' : 'AOF off'}
          </dd>
        </div>
      </dl>
      {redis.warnings.length > 0 && (
        <div style={{ padding: '12px 16px' }}>
          <Callout tone="warning" title="Checked at start">
            <ul style={{ margin: 0, paddingLeft: 18 }}>
              {redis.warnings.map((warning) => (
                <li key={warning}>{warning}</li>
              ))}
            </ul>
          </Callout>
        </div>
      )}
    </section>
  );
}
