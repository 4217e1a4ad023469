'use client';

import {
  type CreateTask,
  TASK_LIMITS,
  type Task,
  type WorkflowInfo,
} from '@taskdock/shared/contract';
import { useRouter, useSearchParams } from 'next/navigation';
import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, api, errorMessage } from '@/lib/api-client';
import {
  type FormErrors,
  type FormValues,
  fieldForPath,
  formFields,
  isObjectSchema,
  type JsonSchema,
  paramsFromValues,
  valuesFromParams,
} from '@/lib/json-schema';
import { useResource } from '@/lib/use-resource';
import { PageHeader } from './page-header';
import { SchemaForm } from './schema-form';
import { Badge } from './ui/badge';
import { Button } from './ui/button';
import { Callout } from './ui/callout';
import { EmptyState } from './ui/empty-state';
import { describedBy, Field } from './ui/field';
import { PlayIcon } from './ui/icons';
import { Loading } from './ui/spinner';
import { useToast } from './ui/toast';

interface Advanced {
  priority: string;
  delaySeconds: string;
  maxAttempts: string;
  timeoutSeconds: string;
  idempotencyKey: string;
  owner: string;
}

const EMPTY_ADVANCED: Advanced = {
  priority: '',
  delaySeconds: '',
  maxAttempts: '',
  timeoutSeconds: '',
  idempotencyKey: '',
  owner: '',
};

/** Advanced field ↔ API body property, for mapping the server's field errors back. */
const ADVANCED_PATHS: Record<string, keyof Advanced> = {
  '/body/priority': 'priority',
  '/body/delayMs': 'delaySeconds',
  '/body/maxAttempts': 'maxAttempts',
  '/body/timeoutMs': 'timeoutSeconds',
  '/body/idempotencyKey': 'idempotencyKey',
  '/body/owner': 'owner',
};

function advancedFromTask(task: Task): Advanced {
  return {
    ...EMPTY_ADVANCED,
    priority: task.priority ? String(task.priority) : '',
    maxAttempts: String(task.maxAttempts),
    timeoutSeconds: task.timeoutMs ? String(task.timeoutMs / 1000) : '',
    owner: task.owner ?? '',
  };
}

function parseAdvanced(a: Advanced): {
  body: Partial<CreateTask>;
  errors: Partial<Record<keyof Advanced, string>>;
} {
  const body: Partial<CreateTask> = {};
  const errors: Partial<Record<keyof Advanced, string>> = {};
  const number = (key: keyof Advanced, min: number, max: number, integer: boolean, scale = 1) => {
    const raw = a[key].trim();
    if (raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      errors[key] = integer ? 'must be a whole number' : 'must be a number';
      return undefined;
    }
    const scaled = Math.round(value * scale);
    if (scaled < min || scaled > max) {
      errors[key] = `must be from ${min / scale} to ${max / scale}`;
      return undefined;
    }
    return scaled;
  };
  const priority = number('priority', 0, TASK_LIMITS.maxPriority, true);
  if (priority !== undefined) body.priority = priority;
  const delayMs = number('delaySeconds', 0, TASK_LIMITS.maxDelayMs, false, 1000);
  if (delayMs) body.delayMs = delayMs;
  const maxAttempts = number('maxAttempts', 1, TASK_LIMITS.maxAttempts, true);
  if (maxAttempts !== undefined) body.maxAttempts = maxAttempts;
  const timeoutMs = number('timeoutSeconds', 1, TASK_LIMITS.maxTimeoutMs, false, 1000);
  if (timeoutMs !== undefined) body.timeoutMs = timeoutMs;
  for (const key of ['idempotencyKey', 'owner'] as const) {
    const value = a[key].trim();
    if (value.length > 200) errors[key] = 'must be at most 200 characters';
    else if (value) body[key] = value;
  }
  return { body, errors };
}

export function NewTaskView() {
  const params = useSearchParams();
  const fromId = params.get('from');
  const workflows = useResource('workflows', (signal) => api.workflows(signal));
  const source = useResource(fromId ? `task:${fromId}` : null, (signal) =>
    api.getTask(fromId as string, signal),
  );
  const [chosen, setChosen] = useState<string | null>(params.get('workflow'));

  // A workflow file that did not load takes no tasks (the Workflows page shows its error).
  const items = (workflows.data?.items ?? []).filter((w) => !w.error);
  const name = chosen ?? source.data?.workflow ?? items[0]?.name ?? null;
  const workflow = items.find((w) => w.name === name);

  return (
    <div className="page">
      <PageHeader
        title={fromId ? 'Run again' : 'New task'}
        description={
          fromId ? (
            <>
              With the params and options of <span className="mono">{fromId}</span>.
            </>
          ) : (
            'Pick a workflow, fill in its params, submit.'
          )
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
      ) : workflows.loading || (fromId && source.loading) ? (
        <Loading label="Loading workflows…" />
      ) : items.length === 0 ? (
        <EmptyState title="No workflows are registered">
          The backend knows no workflow to run. Built-in ones are <code>shell</code>,{' '}
          <code>http</code> and <code>sleep</code>; check the backend log.
        </EmptyState>
      ) : (
        <div className="new-task">
          <fieldset className="workflow-list">
            <legend className="visually-hidden">Workflow</legend>
            {items.map((w) => (
              <label key={w.name} className="workflow-option">
                <input
                  type="radio"
                  name="workflow"
                  className="visually-hidden"
                  value={w.name}
                  checked={w.name === name}
                  onChange={() => setChosen(w.name)}
                />
                <span className="name">
                  {w.name}
                  {w.workers === 0 ? (
                    <Badge tone="amber">no worker</Badge>
                  ) : (
                    <Badge>
                      {w.workers} {w.workers === 1 ? 'worker' : 'workers'}
                    </Badge>
                  )}
                </span>
                <span className="desc">{w.description}</span>
              </label>
            ))}
          </fieldset>
          {workflow && (
            <TaskForm
              key={`${workflow.name}:${source.data?.id ?? ''}`}
              workflow={workflow}
              source={source.data?.workflow === workflow.name ? source.data : undefined}
            />
          )}
        </div>
      )}
      {source.error ? (
        <Callout tone="warning" title={`Could not load ${fromId}`}>
          {errorMessage(source.error)}. The form starts empty.
        </Callout>
      ) : null}
    </div>
  );
}

function TaskForm({ workflow, source }: { workflow: WorkflowInfo; source: Task | undefined }) {
  const router = useRouter();
  const toast = useToast();
  const schema = workflow.paramsSchema as JsonSchema;
  const formable = isObjectSchema(schema);
  const fields = useMemo(() => formFields(schema), [schema]);
  const [mode, setMode] = useState<'form' | 'json'>(formable ? 'form' : 'json');
  const [values, setValues] = useState<FormValues>(() =>
    source ? valuesFromParams(fields, source.params) : {},
  );
  const [json, setJson] = useState(() => JSON.stringify(source?.params ?? {}, null, 2));
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<FormErrors>({});
  const [advanced, setAdvanced] = useState<Advanced>(() =>
    source ? advancedFromTask(source) : EMPTY_ADVANCED,
  );
  const [advancedServerErrors, setAdvancedServerErrors] = useState<
    Partial<Record<keyof Advanced, string>>
  >({});
  const [formError, setFormError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  const parsed = paramsFromValues(fields, values);
  const parsedAdvanced = parseAdvanced(advanced);
  const visible = (pointer: string) => submitted || touched.has(pointer);
  const errors: FormErrors = {};
  for (const [pointer, message] of Object.entries(parsed.errors))
    if (visible(pointer)) errors[pointer] = message;
  Object.assign(errors, serverErrors);
  const advancedErrors = { ...(submitted ? parsedAdvanced.errors : {}), ...advancedServerErrors };
  for (const key of Object.keys(parsedAdvanced.errors) as (keyof Advanced)[]) {
    if (touched.has(`advanced:${key}`)) advancedErrors[key] = parsedAdvanced.errors[key];
  }
  const advancedOpen = Boolean(source) || Object.keys(advancedErrors).length > 0;

  useEffect(() => {
    if (!submitted) return;
    formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [submitted]);

  const switchMode = (next: 'form' | 'json') => {
    if (next === mode) return;
    if (next === 'json') {
      setJson(JSON.stringify(parsed.params, null, 2));
    } else {
      try {
        setValues(valuesFromParams(fields, JSON.parse(json)));
        setFormError(null);
      } catch {
        setFormError('The JSON is not valid; fix it before switching back to the form.');
        return;
      }
    }
    setMode(next);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    setServerErrors({});
    setAdvancedServerErrors({});
    setFormError(null);
    let taskParams: Record<string, unknown>;
    if (mode === 'json') {
      try {
        taskParams = JSON.parse(json || '{}');
      } catch (err) {
        setFormError(`Params are not valid JSON: ${(err as Error).message}`);
        return;
      }
    } else {
      if (Object.keys(parsed.errors).length > 0) {
        setTimeout(() =>
          formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(),
        );
        return;
      }
      taskParams = parsed.params;
    }
    if (Object.keys(parsedAdvanced.errors).length > 0) return;
    setPending(true);
    try {
      const { task, created } = await api.createTask({
        workflow: workflow.name,
        params: taskParams,
        source: 'ui',
        ...parsedAdvanced.body,
      });
      toast(
        created
          ? `Task ${task.id} submitted`
          : `An earlier task has this idempotency key: ${task.id}`,
        created ? 'success' : 'info',
      );
      router.push(`/tasks/detail?id=${encodeURIComponent(task.id)}`);
    } catch (err) {
      setPending(false);
      if (err instanceof ApiError && err.status === 400 && err.fieldErrors.length > 0) {
        const fieldMessages: FormErrors = {};
        const advancedMessages: Partial<Record<keyof Advanced, string>> = {};
        const rest: string[] = [];
        for (const { path, message } of err.fieldErrors) {
          const field = fieldForPath(fields, path);
          const advancedKey = ADVANCED_PATHS[path];
          if (field && mode === 'form') fieldMessages[field.pointer] = message;
          else if (advancedKey) advancedMessages[advancedKey] = message;
          else rest.push(`${path.replace(/^\/body\/?/, '') || 'request'} ${message}`);
        }
        setServerErrors(fieldMessages);
        setAdvancedServerErrors(advancedMessages);
        setFormError(rest.length ? rest.join('; ') : 'Fix the marked fields.');
        setTimeout(() =>
          formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(),
        );
      } else {
        setFormError(errorMessage(err));
      }
    }
  };

  const setValue = (pointer: string, value: string | boolean) => {
    setValues((v) => ({ ...v, [pointer]: value }));
    if (serverErrors[pointer]) setServerErrors(({ [pointer]: _, ...rest }) => rest);
  };
  const touch = (pointer: string) => setTouched((t) => new Set(t).add(pointer));
  const setAdvancedValue = (key: keyof Advanced, value: string) => {
    setAdvanced((a) => ({ ...a, [key]: value }));
    if (advancedServerErrors[key]) setAdvancedServerErrors(({ [key]: _, ...rest }) => rest);
  };

  return (
    <form
      ref={formRef}
      className="card"
      onSubmit={(e) => void submit(e)}
      noValidate
      aria-labelledby="task-form-title"
    >
      <header className="card-header">
        <h2 id="task-form-title">
          <span className="mono">{workflow.name}</span> params
        </h2>
        {formable && (
          <fieldset className="segmented">
            <legend className="visually-hidden">Edit params as</legend>
            <button type="button" aria-pressed={mode === 'form'} onClick={() => switchMode('form')}>
              Form
            </button>
            <button type="button" aria-pressed={mode === 'json'} onClick={() => switchMode('json')}>
              JSON
            </button>
          </fieldset>
        )}
      </header>
      <div className="card-body" style={{ display: 'flex', flexDirection: 'column', gap: 16 }}>
        {workflow.workers === 0 && (
          <Callout tone="warning" title={`No worker serves workflow ${workflow.name}`}>
            The task will wait in the queue until a worker whose <code>TASKDOCK_WORKFLOWS</code>{' '}
            matches <code>{workflow.name}</code> starts.
          </Callout>
        )}
        {mode === 'form' ? (
          fields.length === 0 ? (
            <p className="muted" style={{ margin: 0 }}>
              This workflow takes no params.
            </p>
          ) : (
            <SchemaForm
              fields={fields}
              values={values}
              errors={errors}
              onChange={setValue}
              onBlur={touch}
            />
          )
        ) : (
          <Field
            id="params-json"
            label="Params (JSON object)"
            hint="Validated by the server against the workflow's schema."
          >
            <textarea
              id="params-json"
              className="textarea"
              rows={10}
              value={json}
              onChange={(e) => setJson(e.target.value)}
              spellCheck={false}
            />
          </Field>
        )}
      </div>
      <details className="advanced" open={advancedOpen || undefined}>
        <summary>Advanced options</summary>
        <div className="card-body">
          <div className="form-grid">
            <AdvancedField
              id="opt-priority"
              label="Priority"
              hint="0 runs first (default); larger numbers run later"
              value={advanced.priority}
              error={advancedErrors.priority}
              onChange={(v) => setAdvancedValue('priority', v)}
              onBlur={() => touch('advanced:priority')}
              inputMode="numeric"
            />
            <AdvancedField
              id="opt-delay"
              label="Delay (seconds)"
              hint="start no sooner than this"
              value={advanced.delaySeconds}
              error={advancedErrors.delaySeconds}
              onChange={(v) => setAdvancedValue('delaySeconds', v)}
              onBlur={() => touch('advanced:delaySeconds')}
              inputMode="decimal"
            />
            <AdvancedField
              id="opt-attempts"
              label="Max attempts"
              hint={`failed attempts are retried with backoff; 1 to ${TASK_LIMITS.maxAttempts}`}
              value={advanced.maxAttempts}
              error={advancedErrors.maxAttempts}
              onChange={(v) => setAdvancedValue('maxAttempts', v)}
              onBlur={() => touch('advanced:maxAttempts')}
              inputMode="numeric"
            />
            <AdvancedField
              id="opt-timeout"
              label="Timeout (seconds)"
              hint="an attempt running longer is aborted"
              value={advanced.timeoutSeconds}
              error={advancedErrors.timeoutSeconds}
              onChange={(v) => setAdvancedValue('timeoutSeconds', v)}
              onBlur={() => touch('advanced:timeoutSeconds')}
              inputMode="decimal"
            />
            <AdvancedField
              id="opt-idempotency"
              label="Idempotency key"
              hint="a second submit with the same key returns the first task"
              value={advanced.idempotencyKey}
              error={advancedErrors.idempotencyKey}
              onChange={(v) => setAdvancedValue('idempotencyKey', v)}
              onBlur={() => touch('advanced:idempotencyKey')}
            />
            <AdvancedField
              id="opt-owner"
              label="Owner"
              hint="tasks of one owner share a concurrency limit"
              value={advanced.owner}
              error={advancedErrors.owner}
              onChange={(v) => setAdvancedValue('owner', v)}
              onBlur={() => touch('advanced:owner')}
            />
          </div>
        </div>
      </details>
      <div className="form-actions">
        {formError && (
          <span className="form-error" role="alert">
            {formError}
          </span>
        )}
        <Button type="submit" variant="primary" icon={<PlayIcon />} pending={pending}>
          Submit task
        </Button>
      </div>
    </form>
  );
}

function AdvancedField({
  id,
  label,
  hint,
  value,
  error,
  onChange,
  onBlur,
  inputMode,
}: {
  id: string;
  label: string;
  hint: string;
  value: string;
  error: string | undefined;
  onChange: (value: string) => void;
  onBlur: () => void;
  inputMode?: 'numeric' | 'decimal';
}) {
  return (
    <Field id={id} label={label} hint={hint} error={error}>
      <input
        id={id}
        className="input"
        value={value}
        inputMode={inputMode}
        autoComplete="off"
        onChange={(e) => onChange(e.target.value)}
        onBlur={onBlur}
        {...describedBy(id, error, hint)}
      />
    </Field>
  );
}
