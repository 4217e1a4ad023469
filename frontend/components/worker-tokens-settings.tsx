'use client';

import {
  type CreatedWorkerToken,
  WORKER_TOKEN_LIMITS,
  type WorkerToken,
} from '@taskdock/shared/contract';
import { useState } from 'react';
import { ApiError, api, errorMessage } from '@/lib/api-client';
import { useResource } from '@/lib/use-resource';
import { CopyButton } from './copy-button';
import { RelativeTime } from './relative-time';
import { Button } from './ui/button';
import { Callout } from './ui/callout';
import { Card } from './ui/card';
import { useConfirm } from './ui/confirm-dialog';
import { EmptyState } from './ui/empty-state';
import { describedBy, Field } from './ui/field';
import { PlusIcon, TrashIcon } from './ui/icons';
import { Loading } from './ui/spinner';
import { useToast } from './ui/toast';

/** `render*, gpu-?` → globs; empty: every remote workflow. */
const parseGlobs = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Worker tokens: create (the token is shown once), list, revoke. */
export function WorkerTokensSettings() {
  const tokens = useResource('worker-tokens', (signal) => api.workerTokens(signal));
  const confirm = useConfirm();
  const toast = useToast();
  const [name, setName] = useState('');
  const [workflows, setWorkflows] = useState('');
  const [errors, setErrors] = useState<{ name?: string; workflows?: string }>({});
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedWorkerToken | null>(null);
  const items = tokens.data?.items ?? [];

  const create = async (event: React.FormEvent) => {
    event.preventDefault();
    if (!name.trim()) {
      setErrors({ name: 'Give the token a name (the workers table shows it)' });
      return;
    }
    setCreating(true);
    setErrors({});
    try {
      const globs = parseGlobs(workflows);
      const token = await api.createWorkerToken({
        name: name.trim(),
        ...(globs.length > 0 ? { workflows: globs } : {}),
      });
      setCreated(token);
      setName('');
      setWorkflows('');
      const { token: _secret, ...listed } = token;
      tokens.mutate((list) => (list ? { items: [...list.items, listed] } : list));
    } catch (err) {
      if (err instanceof ApiError && err.fieldErrors.length > 0) {
        const next: typeof errors = {};
        for (const f of err.fieldErrors) {
          if (f.path.includes('/workflows')) next.workflows = f.message;
          else next.name = f.message;
        }
        setErrors(next);
      } else {
        toast(errorMessage(err), 'error');
      }
    } finally {
      setCreating(false);
    }
  };

  const revoke = async (token: WorkerToken) => {
    const go = await confirm({
      title: `Revoke worker token ${token.name}?`,
      body: 'Workers using it get 401 from their next call on; their leased tasks go back to the queue when the leases expire.',
      confirmLabel: 'Revoke token',
      keepLabel: 'Keep token',
      tone: 'danger',
    });
    if (!go) return;
    try {
      await api.revokeWorkerToken(token.id);
      tokens.mutate((list) =>
        list ? { items: list.items.filter((t) => t.id !== token.id) } : list,
      );
      if (created?.id === token.id) setCreated(null);
      toast(`Worker token ${token.name} revoked`, 'success');
    } catch (err) {
      toast(errorMessage(err), 'error');
      void tokens.reload();
    }
  };

  return (
    <Card id="worker-tokens" title="Worker tokens">
      <form
        className="toolbar"
        onSubmit={(e) => void create(e)}
        noValidate
        aria-label="New worker token"
      >
        <Field id="token-name" label="Name" required error={errors.name}>
          <input
            id="token-name"
            className="input"
            value={name}
            autoComplete="off"
            maxLength={WORKER_TOKEN_LIMITS.maxNameLength}
            onChange={(e) => setName(e.target.value)}
            {...describedBy('token-name', errors.name)}
          />
        </Field>
        <Field
          id="token-workflows"
          label="Workflows"
          hint="comma-separated names or globs (render*); empty: all remote workflows"
          error={errors.workflows}
        >
          <input
            id="token-workflows"
            className="input mono"
            value={workflows}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => setWorkflows(e.target.value)}
            {...describedBy('token-workflows', errors.workflows, 'hint')}
          />
        </Field>
        <Button type="submit" variant="primary" icon={<PlusIcon />} pending={creating}>
          Create token
        </Button>
      </form>

      {created && (
        <Callout
          tone="warning"
          title={`Token for ${created.name}: copy it now, it is not shown again`}
          action={<CopyButton text={created.token} what="The token" label="Copy token" />}
        >
          <code className="mono" data-testid="new-worker-token">
            {created.token}
          </code>
        </Callout>
      )}

      {tokens.loading ? (
        <Loading label="Loading worker tokens…" />
      ) : tokens.error ? (
        <Callout tone="error" title="Could not load the worker tokens">
          {errorMessage(tokens.error)}
        </Callout>
      ) : items.length === 0 ? (
        <EmptyState title="No worker tokens">
          A remote worker needs one: create it above, then give it to the worker as
          TASKDOCK_WORKER_TOKEN.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Worker tokens</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Workflows</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((token) => (
                <tr key={token.id}>
                  <td>{token.name}</td>
                  <td className="mono">{token.workflows.join(', ')}</td>
                  <td>
                    <RelativeTime iso={token.createdAt} />
                  </td>
                  <td>
                    <RelativeTime iso={token.lastUsedAt} />
                  </td>
                  <td>
                    <Button
                      size="sm"
                      variant="danger"
                      icon={<TrashIcon />}
                      onClick={() => void revoke(token)}
                      aria-label={`Revoke ${token.name}`}
                    >
                      Revoke
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
