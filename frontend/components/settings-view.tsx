'use client';

import { PageHeader } from './page-header';
import { RemoteWorkersSettings } from './remote-workers-settings';
import { WorkerTokensSettings } from './worker-tokens-settings';

/** What this Taskdock is set to do beyond its defaults: remote workers and their tokens. */
export function SettingsView() {
  return (
    <div className="page">
      <PageHeader
        title="Settings"
        description="Remote workers: let machines elsewhere lease tasks over HTTP (docs/remote-workers.md)."
      />
      <RemoteWorkersSettings />
      <WorkerTokensSettings />
    </div>
  );
}
