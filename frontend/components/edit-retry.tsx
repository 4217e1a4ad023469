'use client';

import type { Task, WorkflowInfo } from '@taskdock/shared/contract';
import { type FormEvent, useEffect, useId, useMemo, useRef, useState } from 'react';
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
import { SchemaForm } from './schema-form';
import { Button } from './ui/button';
import { Callout } from './ui/callout';
import { EditIcon } from './ui/icons';
import { useToast } from './ui/toast';

/**
 * "Edit and retry" of a failed or cancelled task: its params in the workflow's generated form
 * (JSON when the schema has no form), checked as a create is, then run as the task's next attempt.
 */
export function EditRetryButton({
  task,
  workflow,
  onRetried,
}: {
  task: Task;
  /** Its workflow, for the params schema; without it the params are edited as JSON. */
  workflow: WorkflowInfo | undefined;
  onRetried: (task: Task) => void;
}) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button icon={<EditIcon />} onClick={() => setOpen(true)}>
        Edit and retry
      </Button>
      {open && (
        <EditRetryDialog
          task={task}
          workflow={workflow}
          onClose={() => setOpen(false)}
          onRetried={(next) => {
            setOpen(false);
            onRetried(next);
          }}
        />
      )}
    </>
  );
}

function EditRetryDialog({
  task,
  workflow,
  onClose,
  onRetried,
}: {
  task: Task;
  workflow: WorkflowInfo | undefined;
  onClose: () => void;
  onRetried: (task: Task) => void;
}) {
  const toast = useToast();
  const titleId = useId();
  const dialogRef = useRef<HTMLDialogElement>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const opener = useRef<HTMLElement | null>(null);
  const schema = workflow?.paramsSchema as JsonSchema | undefined;
  const formable = schema !== undefined && isObjectSchema(schema);
  const fields = useMemo(() => (formable ? formFields(schema) : []), [formable, schema]);
  const [values, setValues] = useState<FormValues>(() => valuesFromParams(fields, task.params));
  const [json, setJson] = useState(() => JSON.stringify(task.params ?? {}, null, 2));
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<FormErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  useEffect(() => {
    opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dialogRef.current?.showModal();
    return () => opener.current?.focus();
  }, []);

  const parsed = paramsFromValues(fields, values);
  const errors: FormErrors = {};
  for (const [pointer, message] of Object.entries(parsed.errors)) {
    if (submitted || touched.has(pointer)) errors[pointer] = message;
  }
  Object.assign(errors, serverErrors);

  const focusInvalid = () =>
    setTimeout(() => formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    setServerErrors({});
    setFormError(null);
    let params: Record<string, unknown>;
    if (formable) {
      if (Object.keys(parsed.errors).length > 0) return focusInvalid();
      params = parsed.params;
    } else {
      try {
        params = JSON.parse(json || '{}');
      } catch (err) {
        setFormError(`Params are not valid JSON: ${(err as Error).message}`);
        return;
      }
    }
    setPending(true);
    try {
      const next = await api.editRetryTask(task.id, params);
      toast('Retrying with the edited params', 'success');
      onRetried(next);
    } catch (err) {
      setPending(false);
      if (err instanceof ApiError && err.status === 400 && err.fieldErrors.length > 0) {
        const messages: FormErrors = {};
        const rest: string[] = [];
        for (const { path, message } of err.fieldErrors) {
          const field = fieldForPath(fields, path);
          if (field) messages[field.pointer] = message;
          else rest.push(`${path.replace(/^\/body\/?/, '') || 'request'} ${message}`);
        }
        setServerErrors(messages);
        setFormError(rest.length > 0 ? rest.join('; ') : 'Fix the marked fields.');
        focusInvalid();
      } else {
        setFormError(errorMessage(err));
      }
    }
  };

  return (
    <dialog
      ref={dialogRef}
      className="dialog"
      style={{ width: 'min(720px, calc(100vw - 32px))' }}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <form ref={formRef} onSubmit={submit} noValidate>
        <h2 id={titleId} className="dialog-title">
          Edit and retry {task.workflow} task
        </h2>
        <p className="dialog-body">
          The task runs again with these params, checked against the workflow’s schema; its log
          notes which params changed.
        </p>
        {formable ? (
          <SchemaForm
            fields={fields}
            values={values}
            errors={errors}
            onChange={(pointer, value) => {
              setValues((v) => ({ ...v, [pointer]: value }));
              if (serverErrors[pointer]) setServerErrors(({ [pointer]: _, ...rest }) => rest);
            }}
            onBlur={(pointer) => setTouched((t) => new Set(t).add(pointer))}
          />
        ) : (
          <div className="field">
            <label htmlFor={`${titleId}-json`}>Params (JSON)</label>
            <textarea
              id={`${titleId}-json`}
              className="textarea mono"
              rows={10}
              value={json}
              onChange={(e) => setJson(e.target.value)}
              spellCheck={false}
            />
          </div>
        )}
        {formError && (
          <div style={{ marginTop: 12 }}>
            <Callout tone="error" title="Not retried">
              {formError}
            </Callout>
          </div>
        )}
        <div className="dialog-actions">
          <Button onClick={onClose}>Keep as it is</Button>
          <Button type="submit" variant="primary" pending={pending}>
            Retry with these params
          </Button>
        </div>
      </form>
    </dialog>
  );
}
