'use client';

import {
  describeWorkflowLoadError,
  type Stats,
  type WorkflowInfo,
} from '@taskdock/shared/contract';
import { useEffect } from 'react';
import { api, errorMessage } from '@/lib/api-client';
import { describeType, fieldHint, formFields, type JsonSchema } from '@/lib/json-schema';
import { useResource } from '@/lib/use-resource';
import { JsonBlock } from './json-block';
import { PageHeader } from './page-header';
import { Badge } from './ui/badge';
import { Button, ButtonLink } from './ui/button';
import { Callout } from './ui/callout';
import { EmptyState } from './ui/empty-state';
import { PlayIcon } from './ui/icons';
import { Loading } from './ui/spinner';

/** Files are reloaded within a second or two: the page looks again as often. */
const REFRESH_MS = 2000;

/** A declarative workflow to start from (docs/workflows.md explains every field). */
const EXAMPLE = {
  name: 'resize-image',
  description: 'Resizes an image with ImageMagick',
  params: {
    type: 'object',
    properties: {
      input: { type: 'string', description: 'path of the image' },
      size: { type: 'string', default: '800x600' },
    },
    required: ['input'],
  },
  command: 'magick',
  args: ['{{params.input}}', '-resize', '{{params.size}}', '{{params.input}}.resized.png'],
  timeoutMs: 60000,
};

export function WorkflowsView() {
  const workflows = useResource('workflows', (signal) => api.workflows(signal));
  const stats = useResource('stats', (signal) => api.stats(signal));
  useEffect(() => {
    const timer = setInterval(() => {
      void workflows.reload();
      void stats.reload();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [workflows.reload, stats.reload]);

  const items = workflows.data?.items ?? [];
  const fromFiles = items.filter((w) => w.source.kind === 'file');
  // Yours first: the built-ins are always the same three.
  const shown = [...fromFiles, ...items.filter((w) => w.source.kind !== 'file')];
  return (
    <div className="page">
      <PageHeader
        title="Workflows"
        description="What tasks can run: the built-in workflows and your own, from files in the workflows folder."
        actions={
          <Button
            onClick={() => void workflows.reload()}
            pending={workflows.loading && !!workflows.data}
          >
            Refresh
          </Button>
        }
      />
      {workflows.error ? (
        <Callout
          tone="error"
          title="Could not load the workflows"
          action={
            <Button size="sm" onClick={() => void workflows.reload()}>
              Retry
            </Button>
          }
        >
          {errorMessage(workflows.error)}
        </Callout>
      ) : null}
      {workflows.loading && !workflows.data ? (
        <Loading label="Loading workflows…" />
      ) : (
        <>
          {workflows.data && fromFiles.length === 0 && <AddYourOwn />}
          <div className="workflow-list" style={{ display: 'grid', gap: 16 }}>
            {shown.map((workflow) => (
              <WorkflowCard
                key={`${workflow.name} ${workflow.source.kind === 'file' ? workflow.source.path : ''}`}
                workflow={workflow}
                stats={stats.data?.workflows.find((w) => w.name === workflow.name)}
              />
            ))}
          </div>
        </>
      )}
    </div>
  );
}

function AddYourOwn() {
  return (
    <section className="card" aria-label="Add your own workflow">
      <EmptyState title="No workflows of your own yet">
        <p>
          Put a <code>.json</code> file like the one below (or a <code>.mjs</code> module exporting{' '}
          <code>name</code>, <code>description</code>, <code>paramsSchema</code> and{' '}
          <code>run(ctx)</code>) into the <code>workflows</code> folder of Taskdock's data
          directory, or a folder listed in <code>TASKDOCK_WORKFLOWS_PATH</code>. It shows up here
          within two seconds; no restart. See <code>docs/workflows.md</code> for every field.
        </p>
      </EmptyState>
      <div className="card-body">
        <JsonBlock value={EXAMPLE} name="resize-image" />
      </div>
    </section>
  );
}

function SourceLine({ source }: { source: WorkflowInfo['source'] }) {
  if (source.kind === 'built-in') return <>Built in</>;
  if (source.kind === 'remote') return <>Declared through the API; run by remote workers</>;
  return (
    <>
      File <span className="mono">{source.path}</span>
    </>
  );
}

function WorkflowCard({
  workflow,
  stats,
}: {
  workflow: WorkflowInfo;
  stats: Stats['workflows'][number] | undefined;
}) {
  const id = `workflow-${workflow.name}-${workflow.source.kind}`;
  const schema = workflow.paramsSchema as JsonSchema;
  const fields = formFields(schema);
  return (
    <section className="card" aria-labelledby={id} data-workflow={workflow.name}>
      <header className="card-header">
        <div>
          <h2 id={id} className="mono">
            {workflow.name}
          </h2>
          <span className="field-hint">
            <SourceLine source={workflow.source} />
          </span>
        </div>
        <div style={{ display: 'flex', gap: 8, alignItems: 'center' }}>
          {workflow.error ? (
            <Badge tone="red">Did not load</Badge>
          ) : (
            <Badge tone={workflow.workers > 0 ? 'green' : 'amber'} dot>
              {workflow.workers === 1 ? '1 worker' : `${workflow.workers} workers`}
            </Badge>
          )}
          {workflow.paused && <Badge tone="amber">Paused</Badge>}
          {!workflow.error && (
            <ButtonLink
              size="sm"
              variant="primary"
              icon={<PlayIcon />}
              href={`/tasks/new?workflow=${encodeURIComponent(workflow.name)}`}
              aria-label={`New task for ${workflow.name}`}
            >
              New task
            </ButtonLink>
          )}
        </div>
      </header>
      <div className="card-body" style={{ display: 'grid', gap: 12 }}>
        {workflow.error && (
          <Callout tone="error" title="This file did not load, so its tasks are refused">
            <span className="mono">{describeWorkflowLoadError(workflow.error)}</span>
          </Callout>
        )}
        {workflow.description && <p style={{ margin: 0 }}>{workflow.description}</p>}
        {stats && (
          <p className="field-hint" style={{ margin: 0 }}>
            {stats.byStatus.queued} queued · {stats.byStatus.running} running ·{' '}
            {stats.totals.completed} completed · {stats.totals.failed} failed
          </p>
        )}
        {!workflow.error &&
          (fields.length === 0 ? (
            <p className="muted" style={{ margin: 0 }}>
              No params.
            </p>
          ) : (
            <div className="table-wrap">
              <table className="table" aria-label={`Params of ${workflow.name}`}>
                <thead>
                  <tr>
                    <th scope="col">Param</th>
                    <th scope="col">Type</th>
                    <th scope="col">Notes</th>
                  </tr>
                </thead>
                <tbody>
                  {fields.map((field) => (
                    <tr key={field.pointer}>
                      <th scope="row" className="mono">
                        {field.group ? `${field.group}.${field.name}` : field.name}
                        {field.required && <span title="required"> *</span>}
                      </th>
                      <td>{describeType(field.schema)}</td>
                      <td>{[field.description, fieldHint(field)].filter(Boolean).join(' · ')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
      </div>
    </section>
  );
}
