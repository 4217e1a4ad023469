'use client';

import {
  SCHEDULE_NAME_MAX_LENGTH,
  SCHEDULE_NAME_PATTERN,
  type Schedule,
  type UpsertSchedule,
  type WorkflowInfo,
} from '@taskdock/shared/contract';
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
import { browserTimeZone, describeCron, formatRunTime, timeZones } from '@/lib/schedules';
import { useDebounced } from '@/lib/use-resource';
import { SchemaForm } from './schema-form';
import { Button } from './ui/button';
import { describedBy, Field } from './ui/field';

/** Fields of the form beside the params, keyed as the API's body paths name them. */
type Own = 'name' | 'workflow' | 'pattern' | 'tz' | 'owner' | 'params';
const OWN_PATHS: Record<string, Own> = {
  '/body/workflow': 'workflow',
  '/body/pattern': 'pattern',
  '/body/tz': 'tz',
  '/body/owner': 'owner',
  '/body/params': 'params',
};
const NAME_RE = new RegExp(SCHEDULE_NAME_PATTERN.pattern);

type Check =
  | { state: 'idle' | 'checking' }
  | { state: 'ok'; nextRuns: string[] }
  | { state: 'bad'; errors: Partial<Record<Own, string>> };

/** Judges pattern and zone as the server would, a moment after typing stops. */
function usePatternCheck(pattern: string, tz: string): Check {
  const settled = useDebounced({ pattern: pattern.trim(), tz: tz.trim() }, 300);
  const [check, setCheck] = useState<Check>({ state: 'idle' });
  useEffect(() => {
    if (!settled.pattern) {
      setCheck({ state: 'idle' });
      return;
    }
    const controller = new AbortController();
    setCheck({ state: 'checking' });
    api
      .checkSchedule(
        { pattern: settled.pattern, ...(settled.tz ? { tz: settled.tz } : {}) },
        controller.signal,
      )
      .then(({ nextRuns }) => setCheck({ state: 'ok', nextRuns }))
      .catch((err) => {
        if (controller.signal.aborted) return;
        const errors: Partial<Record<Own, string>> = {};
        if (err instanceof ApiError) {
          for (const { path, message } of err.fieldErrors) {
            const own = OWN_PATHS[path];
            if (own) errors[own] = message;
          }
        }
        if (Object.keys(errors).length === 0) errors.pattern = errorMessage(err);
        setCheck({ state: 'bad', errors });
      });
    return () => controller.abort();
  }, [settled.pattern, settled.tz]);
  return check;
}

/**
 * Create or edit a schedule: workflow, cron pattern (in words and checked while typed, with its
 * next runs), time zone, owner, and the workflow's params in the generated form.
 */
export function ScheduleForm({
  workflows,
  schedule,
  takenNames,
  onSaved,
  onClose,
}: {
  workflows: readonly WorkflowInfo[];
  /** The schedule being edited; none for a new one. */
  schedule?: Schedule;
  takenNames: readonly string[];
  onSaved: (schedule: Schedule) => void;
  onClose: () => void;
}) {
  const editing = schedule !== undefined;
  const [name, setName] = useState(schedule?.id ?? '');
  const [workflowName, setWorkflowName] = useState(schedule?.workflow ?? workflows[0]?.name ?? '');
  const [pattern, setPattern] = useState(schedule?.pattern ?? '0 9 * * 1-5');
  const [tz, setTz] = useState(schedule ? (schedule.tz ?? '') : browserTimeZone());
  const [owner, setOwner] = useState(schedule?.owner ?? '');
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<Partial<Record<Own, string>>>({});
  const [paramErrors, setParamErrors] = useState<FormErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const zones = useMemo(timeZones, []);

  const workflow = workflows.find((w) => w.name === workflowName);
  const schema = (workflow?.paramsSchema ?? {}) as JsonSchema;
  const formable = isObjectSchema(schema);
  const fields = useMemo(() => formFields(schema), [schema]);
  const sameWorkflow = schedule?.workflow === workflowName;
  const [values, setValues] = useState<FormValues>(() =>
    schedule ? valuesFromParams(fields, schedule.params) : {},
  );
  const [json, setJson] = useState(() => JSON.stringify(schedule?.params ?? {}, null, 2));
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());

  const check = usePatternCheck(pattern, tz);
  const words = pattern.trim() ? describeCron(pattern.trim()) : null;
  const parsed = paramsFromValues(fields, values);

  const nameError = editing
    ? undefined
    : !name.trim()
      ? submitted || touched.has('name')
        ? 'is required'
        : undefined
      : name.length > SCHEDULE_NAME_MAX_LENGTH
        ? `must be at most ${SCHEDULE_NAME_MAX_LENGTH} characters`
        : !NAME_RE.test(name)
          ? SCHEDULE_NAME_PATTERN.message
          : takenNames.includes(name)
            ? `a schedule named ${name} exists: edit it instead`
            : undefined;
  const checkErrors = check.state === 'bad' ? check.errors : {};
  const errors: Partial<Record<Own, string>> = {
    ...checkErrors,
    ...(pattern.trim() ? {} : { pattern: 'is required: a cron pattern such as "0 9 * * 1-5"' }),
    ...serverErrors,
    ...(nameError ? { name: nameError } : {}),
  };
  const visibleParamErrors: FormErrors = { ...paramErrors };
  for (const [pointer, message] of Object.entries(parsed.errors)) {
    if (submitted || touched.has(pointer)) visibleParamErrors[pointer] = message;
  }

  const focusFirstError = () =>
    setTimeout(() => formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    setFormError(null);
    setServerErrors({});
    setParamErrors({});
    let params: Record<string, unknown>;
    if (formable) {
      params = parsed.params;
      if (Object.keys(parsed.errors).length > 0) return focusFirstError();
    } else {
      try {
        params = JSON.parse(json || '{}');
      } catch (err) {
        setServerErrors({ params: `are not valid JSON: ${(err as Error).message}` });
        return focusFirstError();
      }
    }
    if (nameError || !name.trim() || !pattern.trim() || check.state === 'bad') {
      return focusFirstError();
    }
    const body: UpsertSchedule = {
      workflow: workflowName,
      pattern: pattern.trim(),
      params,
      ...(tz.trim() ? { tz: tz.trim() } : {}),
      ...(owner.trim() ? { owner: owner.trim() } : {}),
    };
    setPending(true);
    try {
      onSaved(await api.saveSchedule(name.trim(), body));
    } catch (err) {
      setPending(false);
      if (err instanceof ApiError && err.fieldErrors.length > 0) {
        const own: Partial<Record<Own, string>> = {};
        const inParams: FormErrors = {};
        for (const { path, message } of err.fieldErrors) {
          const field = formable ? fieldForPath(fields, path) : undefined;
          if (field) inParams[field.pointer] = message;
          else
            own[OWN_PATHS[path] ?? (path.startsWith('/body/params') ? 'params' : 'name')] = message;
        }
        setServerErrors(own);
        setParamErrors(inParams);
        setFormError('Fix the marked fields.');
        focusFirstError();
      } else {
        setFormError(errorMessage(err));
      }
    }
  };

  const clearServer = (key: Own) => {
    if (serverErrors[key]) setServerErrors(({ [key]: _, ...rest }) => rest);
  };
  const touch = (key: string) => setTouched((t) => new Set(t).add(key));

  return (
    <form
      ref={formRef}
      className="card"
      onSubmit={(e) => void submit(e)}
      noValidate
      aria-labelledby="schedule-form-title"
    >
      <header className="card-header">
        <h2 id="schedule-form-title">
          {editing ? (
            <>
              Edit schedule <span className="mono">{schedule.id}</span>
            </>
          ) : (
            'New schedule'
          )}
        </h2>
      </header>
      <div className="card-body schedule-form">
        <div className="form-grid">
          {!editing && (
            <Field
              id="schedule-name"
              label="Name"
              required
              hint="letters, digits, '_', '.' or '-'; its tasks carry it"
              error={errors.name}
            >
              <input
                id="schedule-name"
                className="input mono"
                value={name}
                autoComplete="off"
                spellCheck={false}
                maxLength={SCHEDULE_NAME_MAX_LENGTH + 1}
                onChange={(e) => {
                  setName(e.target.value);
                  clearServer('name');
                }}
                onBlur={() => touch('name')}
                {...describedBy('schedule-name', errors.name, 'hint')}
              />
            </Field>
          )}
          <Field id="schedule-workflow" label="Workflow" required error={errors.workflow}>
            <select
              id="schedule-workflow"
              className="select"
              value={workflowName}
              onChange={(e) => {
                setWorkflowName(e.target.value);
                setValues({});
                clearServer('workflow');
              }}
              {...describedBy('schedule-workflow', errors.workflow)}
            >
              {workflows.map((w) => (
                <option key={w.name} value={w.name}>
                  {w.name}
                </option>
              ))}
            </select>
          </Field>
          <Field
            id="schedule-pattern"
            label="Cron pattern"
            required
            hint={
              words && 'words' in words ? (
                <>
                  <strong className="cron-words">{words.words}</strong> · minute hour day month
                  weekday (a sixth field first for seconds)
                </>
              ) : (
                'minute hour day month weekday (a sixth field first for seconds)'
              )
            }
            error={errors.pattern}
          >
            <input
              id="schedule-pattern"
              className="input mono"
              value={pattern}
              autoComplete="off"
              spellCheck={false}
              maxLength={200}
              onChange={(e) => {
                setPattern(e.target.value);
                clearServer('pattern');
              }}
              {...describedBy('schedule-pattern', errors.pattern, 'hint')}
            />
          </Field>
          <Field
            id="schedule-tz"
            label="Time zone"
            hint="an IANA name; empty: the server's own zone"
            error={errors.tz}
          >
            <input
              id="schedule-tz"
              className="input"
              value={tz}
              list="schedule-tz-list"
              autoComplete="off"
              spellCheck={false}
              maxLength={100}
              onChange={(e) => {
                setTz(e.target.value);
                clearServer('tz');
              }}
              {...describedBy('schedule-tz', errors.tz, 'hint')}
            />
            <datalist id="schedule-tz-list">
              {zones.map((zone) => (
                <option key={zone} value={zone} />
              ))}
            </datalist>
          </Field>
          <Field
            id="schedule-owner"
            label="Owner"
            hint="its tasks share this owner's concurrency limit"
            error={errors.owner}
          >
            <input
              id="schedule-owner"
              className="input"
              value={owner}
              autoComplete="off"
              maxLength={201}
              onChange={(e) => {
                setOwner(e.target.value);
                clearServer('owner');
              }}
              {...describedBy('schedule-owner', errors.owner, 'hint')}
            />
          </Field>
        </div>

        <section className="next-runs" aria-labelledby="schedule-next-runs" aria-live="polite">
          <h3 id="schedule-next-runs">Next runs</h3>
          {check.state === 'ok' ? (
            <ol>
              {check.nextRuns.map((run) => (
                <li key={run}>
                  <time dateTime={run}>{formatRunTime(run, tz.trim() || undefined)}</time>
                </li>
              ))}
            </ol>
          ) : (
            <p className="muted">
              {check.state === 'checking'
                ? 'Checking the pattern…'
                : check.state === 'bad'
                  ? 'None until the pattern and zone are valid.'
                  : 'Type a pattern to see when it runs.'}
            </p>
          )}
        </section>

        <fieldset className="schedule-params">
          <legend>
            <span className="mono">{workflowName}</span> params
          </legend>
          {formable ? (
            fields.length === 0 ? (
              <p className="muted">This workflow takes no params.</p>
            ) : (
              <SchemaForm
                key={sameWorkflow ? 'same' : workflowName}
                fields={fields}
                values={values}
                errors={visibleParamErrors}
                onChange={(pointer, value) => {
                  setValues((v) => ({ ...v, [pointer]: value }));
                  if (paramErrors[pointer]) setParamErrors(({ [pointer]: _, ...rest }) => rest);
                }}
                onBlur={touch}
              />
            )
          ) : (
            <Field id="schedule-params-json" label="Params (JSON object)" error={errors.params}>
              <textarea
                id="schedule-params-json"
                className="textarea"
                rows={6}
                value={json}
                spellCheck={false}
                onChange={(e) => setJson(e.target.value)}
                {...describedBy('schedule-params-json', errors.params)}
              />
            </Field>
          )}
          {formable && errors.params && (
            <p className="field-error" role="alert">
              params {errors.params}
            </p>
          )}
        </fieldset>
      </div>
      <div className="form-actions">
        {formError && (
          <span className="form-error" role="alert">
            {formError}
          </span>
        )}
        <Button variant="ghost" onClick={onClose}>
          Discard
        </Button>
        <Button type="submit" variant="primary" pending={pending}>
          {editing ? 'Save changes' : 'Create schedule'}
        </Button>
      </div>
    </form>
  );
}
