'use client';

import type { FormErrors, FormField, FormValues } from '@/lib/json-schema';
import { describeType, fieldHint } from '@/lib/json-schema';
import { describedBy, Field } from './ui/field';

const fieldId = (pointer: string) => `param${pointer.replace(/[^\w-]/g, '-')}`;

/** Inputs for a workflow's params, one per schema property, with inline errors. */
export function SchemaForm({
  fields,
  values,
  errors,
  onChange,
  onBlur,
}: {
  fields: readonly FormField[];
  values: FormValues;
  errors: FormErrors;
  onChange: (pointer: string, value: string | boolean) => void;
  onBlur: (pointer: string) => void;
}) {
  const groups = [...new Set(fields.map((f) => f.group))];
  return (
    <>
      {groups.map((group) => (
        <fieldset key={group ?? ''} style={group ? { marginTop: 16 } : undefined}>
          {group ? (
            <legend className="mono">{group}</legend>
          ) : (
            <legend className="visually-hidden">Params</legend>
          )}
          <div className="form-grid">
            {fields
              .filter((f) => f.group === group)
              .map((field) => (
                <SchemaField
                  key={field.pointer}
                  field={field}
                  value={values[field.pointer]}
                  error={errors[field.pointer]}
                  onChange={(value) => onChange(field.pointer, value)}
                  onBlur={() => onBlur(field.pointer)}
                />
              ))}
          </div>
        </fieldset>
      ))}
    </>
  );
}

function SchemaField({
  field,
  value,
  error,
  onChange,
  onBlur,
}: {
  field: FormField;
  value: string | boolean | undefined;
  error: string | undefined;
  onChange: (value: string | boolean) => void;
  onBlur: () => void;
}) {
  const id = fieldId(field.pointer);
  const hint = [field.schema.description, fieldHint(field)].filter(Boolean).join(' — ');
  const aria = describedBy(id, error, hint);
  const wide =
    field.kind === 'list' ||
    field.kind === 'map' ||
    field.kind === 'json' ||
    field.kind === 'string';
  const label = <span className="mono">{field.name}</span>;
  const type =
    field.kind === 'list'
      ? 'list'
      : field.kind === 'map'
        ? 'map'
        : field.kind === 'json'
          ? 'JSON'
          : field.kind === 'enum'
            ? 'choice'
            : field.kind;

  if (field.kind === 'boolean') {
    return (
      <div className="field span-2">
        <label className="checkbox" htmlFor={id}>
          <input
            id={id}
            type="checkbox"
            checked={value === true}
            onChange={(e) => onChange(e.target.checked)}
            onBlur={onBlur}
            {...aria}
          />
          {label}
        </label>
        {error ? (
          <span className="field-error" id={`${id}-error`}>
            {error}
          </span>
        ) : (
          hint && (
            <span className="field-hint" id={`${id}-hint`}>
              {hint}
            </span>
          )
        )}
      </div>
    );
  }

  const text = typeof value === 'string' ? value : '';
  let control: React.ReactNode;
  switch (field.kind) {
    case 'enum':
      control = (
        <select
          id={id}
          className="select"
          value={text}
          onChange={(e) => onChange(e.target.value)}
          onBlur={onBlur}
          required={field.required}
          {...aria}
        >
          <option value="">
            {field.schema.default !== undefined
              ? `Default (${String(field.schema.default)})`
              : field.required
                ? 'Choose…'
                : '—'}
          </option>
          {field.options?.map((option) => (
            <option key={String(option)} value={String(option)}>
              {String(option)}
            </option>
          ))}
        </select>
      );
      break;
    case 'list':
    case 'map':
    case 'json':
      control = (
        <textarea
          id={id}
          className="textarea"
          rows={field.kind === 'json' ? 4 : 3}
          value={text}
          onChange={(e) => onChange(e.target.value)}
          onBlur={onBlur}
          spellCheck={false}
          placeholder={
            field.kind === 'map'
              ? 'KEY=value'
              : field.kind === 'list'
                ? 'one per line'
                : describeType(field.schema)
          }
          {...aria}
        />
      );
      break;
    default:
      control = (
        <input
          id={id}
          className={`input${field.kind === 'string' ? ' mono' : ''}`}
          type="text"
          inputMode={
            field.kind === 'integer' ? 'numeric' : field.kind === 'number' ? 'decimal' : undefined
          }
          value={text}
          onChange={(e) => onChange(e.target.value)}
          onBlur={onBlur}
          required={field.required}
          spellCheck={false}
          autoComplete="off"
          placeholder={
            field.schema.default !== undefined ? String(field.schema.default) : undefined
          }
          {...aria}
        />
      );
  }
  return (
    <Field
      id={id}
      label={label}
      type={type}
      required={field.required}
      hint={hint}
      error={error}
      className={wide ? 'span-2' : undefined}
    >
      {control}
    </Field>
  );
}
