'use client';

import type { RemoteServingStatus } from '@taskdock/shared/contract';
import { useEffect, useState } from 'react';
import { ApiError, api, errorMessage } from '@/lib/api-client';
import { useResource } from '@/lib/use-resource';
import { CopyButton } from './copy-button';
import { Badge } from './ui/badge';
import { Button } from './ui/button';
import { Callout } from './ui/callout';
import { Card } from './ui/card';
import { useConfirm } from './ui/confirm-dialog';
import { describedBy, Field } from './ui/field';
import { Loading } from './ui/spinner';
import { useToast } from './ui/toast';

/** How often the page looks for the backend while the supervisor restarts it. */
const RESTART_POLL_MS = 1000;

/** Why the setting cannot be changed here, or null when it can. */
function lockedReason(status: RemoteServingStatus): string | null {
  if (!status.available) {
    return 'Remote workers need the Redis store: this Taskdock runs in memory mode.';
  }
  if (status.source === 'env') {
    return 'TASKDOCK_HOST is set in the environment: it decides where the API listens, and wins over this setting.';
  }
  if (!status.supervised) {
    return 'No supervisor runs this backend (it was started on its own): set TASKDOCK_HOST and restart it instead.';
  }
  return null;
}

/** On/off, the URL remote workers use, and the bind setting the supervisor applies at restart. */
export function RemoteWorkersSettings() {
  const status = useResource('remote-serving', (signal) => api.remoteServing(signal));
  const confirm = useConfirm();
  const toast = useToast();
  const [enabled, setEnabled] = useState(false);
  const [publicUrl, setPublicUrl] = useState('');
  const [allowPlaintext, setAllowPlaintext] = useState(false);
  const [errors, setErrors] = useState<{ publicUrl?: string; allowPlaintext?: string }>({});
  const [saving, setSaving] = useState(false);
  const [restarting, setRestarting] = useState(false);

  const current = status.data;
  useEffect(() => {
    if (!current) return;
    setEnabled(current.setting.enabled);
    setPublicUrl(current.setting.publicUrl ?? '');
    setAllowPlaintext(current.setting.allowPlaintext);
  }, [current]);

  // While the backend restarts, look again until it answers.
  useEffect(() => {
    if (!restarting) return;
    const timer = setInterval(() => {
      api.remoteServing().then(
        (fresh) => {
          status.mutate(() => fresh);
          setRestarting(false);
          toast(
            fresh.active ? 'Remote workers can reach this machine now' : 'Loopback only now',
            'success',
          );
        },
        () => {},
      );
    }, RESTART_POLL_MS);
    return () => clearInterval(timer);
  }, [restarting, status.mutate, toast]);

  if (status.loading) return <Loading label="Loading the remote workers setting…" />;
  if (!current) {
    return (
      <Callout
        tone="error"
        title="Could not load the remote workers setting"
        action={
          <Button size="sm" onClick={() => void status.reload()}>
            Retry
          </Button>
        }
      >
        {errorMessage(status.error)}
      </Callout>
    );
  }

  const locked = lockedReason(current);
  const save = async (event: React.FormEvent) => {
    event.preventDefault();
    const go = await confirm({
      title: enabled ? 'Open the API to other machines?' : 'Serve on this machine only?',
      body: 'The backend restarts with the new setting: this page reconnects within seconds; tasks keep running in their workers.',
      confirmLabel: 'Save and restart',
      keepLabel: 'Keep as it is',
      tone: 'primary',
    });
    if (!go) return;
    setSaving(true);
    setErrors({});
    try {
      const url = publicUrl.trim();
      await api.saveRemoteServing({ enabled, allowPlaintext, ...(url ? { publicUrl: url } : {}) });
      setRestarting(true);
      toast('Saved: the backend restarts with it', 'success');
    } catch (err) {
      if (err instanceof ApiError && err.fieldErrors.length > 0) {
        const next: typeof errors = {};
        for (const f of err.fieldErrors) {
          if (f.path.endsWith('/publicUrl')) next.publicUrl = f.message;
          else next.allowPlaintext = f.message;
        }
        setErrors(next);
      } else {
        toast(errorMessage(err), 'error');
      }
    } finally {
      setSaving(false);
    }
  };

  return (
    <Card
      id="remote-serving"
      title="Remote workers"
      actions={
        <Badge tone={current.active ? 'green' : 'gray'}>{current.active ? 'On' : 'Off'}</Badge>
      }
    >
      {current.active && current.url ? (
        <div className="toolbar">
          <span>
            Workers on other machines use <code className="mono">{current.url}</code>
            {current.tls ? ' (TLS)' : ''}
          </span>
          <span className="toolbar-spacer" />
          <CopyButton text={current.url} what="The URL" label="Copy URL" />
        </div>
      ) : (
        <p>The API answers on this machine only (loopback).</p>
      )}
      {current.plaintext && (
        <Callout tone="warning" title="No TLS">
          Worker tokens cross the network in clear (TASKDOCK_ALLOW_PLAINTEXT).
        </Callout>
      )}
      {restarting && <Loading label="The backend restarts…" />}
      {locked ? (
        <Callout tone="info" title="Set outside this page">
          {locked}
        </Callout>
      ) : (
        <form onSubmit={(e) => void save(e)} noValidate aria-label="Remote workers setting">
          <div className="form-grid">
            <div className="field span-2">
              <label className="checkbox" htmlFor="remote-enabled">
                <input
                  id="remote-enabled"
                  type="checkbox"
                  checked={enabled}
                  onChange={(e) => setEnabled(e.target.checked)}
                />
                Let workers on other machines reach this API (listen on every interface)
              </label>
            </div>
            <Field
              id="remote-public-url"
              label="Public URL"
              hint="how other machines reach this one; empty: this machine's name and port"
              error={errors.publicUrl}
              className="span-2"
            >
              <input
                id="remote-public-url"
                className="input mono"
                value={publicUrl}
                placeholder={current.tls ? 'https://gpu-host.lan:8787' : 'http://gpu-host.lan:8787'}
                autoComplete="off"
                spellCheck={false}
                maxLength={2048}
                disabled={!enabled}
                onChange={(e) => setPublicUrl(e.target.value)}
                {...describedBy('remote-public-url', errors.publicUrl, 'hint')}
              />
            </Field>
            {!current.tls && (
              <div className="field span-2">
                <label className="checkbox" htmlFor="remote-plaintext">
                  <input
                    id="remote-plaintext"
                    type="checkbox"
                    checked={allowPlaintext}
                    disabled={!enabled}
                    onChange={(e) => setAllowPlaintext(e.target.checked)}
                    {...describedBy('remote-plaintext', errors.allowPlaintext, 'hint')}
                  />
                  Serve without TLS (no TASKDOCK_TLS_CERT / TASKDOCK_TLS_KEY): tokens cross the
                  network in clear
                </label>
                {errors.allowPlaintext ? (
                  <span className="field-error" id="remote-plaintext-error">
                    {errors.allowPlaintext}
                  </span>
                ) : (
                  <span className="field-hint" id="remote-plaintext-hint">
                    Without TLS files the API opens to other machines only with this opt-in.
                  </span>
                )}
              </div>
            )}
          </div>
          <div className="form-actions">
            <Button type="submit" variant="primary" pending={saving} disabled={restarting}>
              Save and restart
            </Button>
          </div>
        </form>
      )}
    </Card>
  );
}
