// The params form of a workflow, generated from its JSON Schema (the subset TypeBox emits:
// type, required, properties, items, patternProperties, anyOf/const, min/max, lengths, pattern,
// default, description). The API validates again on submit; its field errors map back here.

export type JsonSchema = {
  type?: string | string[];
  description?: string;
  title?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
};

export type FieldKind =
  | 'string'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'enum'
  /** An array of strings or numbers: one item per line. */
  | 'list'
  /** An object of string values (env, headers): `KEY=value` per line. */
  | 'map'
  /** Anything else (unknown, unions): JSON, or plain text where a string is allowed. */
  | 'json';

export interface FormField {
  /** JSON pointer inside params, e.g. `/command`, `/options/retries`. */
  readonly pointer: string;
  readonly name: string;
  readonly kind: FieldKind;
  readonly schema: JsonSchema;
  readonly required: boolean;
  readonly description?: string;
  readonly options?: readonly (string | number)[];
  /** Nested object fields are flattened; the group is shown as a fieldset legend. */
  readonly group?: string;
}

export type FormValues = Record<string, string | boolean>;
export type FormErrors = Record<string, string>;

const typesOf = (schema: JsonSchema): string[] =>
  schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];

function enumOptions(schema: JsonSchema): (string | number)[] | undefined {
  if (schema.enum?.every((v) => typeof v === 'string' || typeof v === 'number')) {
    return schema.enum as (string | number)[];
  }
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches?.length && branches.every((b) => b.const !== undefined)) {
    const values = branches.map((b) => b.const);
    if (values.every((v) => typeof v === 'string' || typeof v === 'number')) {
      return values as (string | number)[];
    }
  }
  return undefined;
}

function kindOf(schema: JsonSchema): FieldKind {
  if (enumOptions(schema)) return 'enum';
  const types = typesOf(schema);
  if (types.length === 1) {
    const [type] = types;
    if (type === 'string' || type === 'integer' || type === 'number' || type === 'boolean') {
      return type;
    }
    if (type === 'array' && schema.items) {
      const item = typesOf(schema.items);
      if (item.length === 1 && ['string', 'integer', 'number'].includes(item[0] as string)) {
        return 'list';
      }
    }
    if (type === 'object' && !schema.properties) {
      const values = [
        ...Object.values(schema.patternProperties ?? {}),
        ...(typeof schema.additionalProperties === 'object' ? [schema.additionalProperties] : []),
      ];
      if (values.length > 0 && values.every((v) => typesOf(v).join() === 'string')) return 'map';
    }
  }
  return 'json';
}

/** The fields of an object schema, nested objects flattened into groups. */
export function formFields(
  schema: JsonSchema | undefined,
  prefix = '',
  group?: string,
): FormField[] {
  if (!schema?.properties) return [];
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).flatMap(([name, child]) => {
    const pointer = `${prefix}/${name}`;
    if (typesOf(child).join() === 'object' && child.properties) {
      return formFields(child, pointer, group ? `${group}.${name}` : name);
    }
    return [
      {
        pointer,
        name,
        kind: kindOf(child),
        schema: child,
        required: required.has(name),
        description: child.description,
        options: enumOptions(child),
        group,
      },
    ];
  });
}

/** Whether the form can describe this schema at all (else the UI offers the JSON editor). */
export const isObjectSchema = (schema: unknown): schema is JsonSchema =>
  typeof schema === 'object' &&
  schema !== null &&
  ((schema as JsonSchema).properties !== undefined ||
    typesOf(schema as JsonSchema).includes('object'));

// ---------- values ⇄ params ----------

const getAt = (value: unknown, pointer: string): unknown =>
  pointer
    .split('/')
    .slice(1)
    .reduce<unknown>(
      (v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined),
      value,
    );

function setAt(target: Record<string, unknown>, pointer: string, value: unknown): void {
  const keys = pointer.split('/').slice(1);
  let node = target;
  for (const key of keys.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
}

/** Form values showing existing params (run again, or the JSON editor switched back). */
export function valuesFromParams(fields: readonly FormField[], params: unknown): FormValues {
  const values: FormValues = {};
  for (const field of fields) {
    const value = getAt(params, field.pointer);
    if (value === undefined) continue;
    switch (field.kind) {
      case 'boolean':
        values[field.pointer] = value === true;
        break;
      case 'list':
        values[field.pointer] = Array.isArray(value) ? value.map(String).join('\n') : '';
        break;
      case 'map':
        values[field.pointer] =
          value && typeof value === 'object'
            ? Object.entries(value as Record<string, unknown>)
                .map(([k, v]) => `${k}=${String(v)}`)
                .join('\n')
            : '';
        break;
      case 'json':
        values[field.pointer] =
          typeof value === 'string' && allowsString(field.schema)
            ? value
            : JSON.stringify(value, null, 2);
        break;
      default:
        values[field.pointer] = String(value);
    }
  }
  return values;
}

function allowsString(schema: JsonSchema): boolean {
  const types = typesOf(schema);
  if (schema.anyOf || schema.oneOf) return (schema.anyOf ?? schema.oneOf ?? []).some(allowsString);
  return types.length === 0 || types.includes('string');
}

type Parsed = { ok: true; value: unknown } | { ok: false; error: string };
const fail = (error: string): Parsed => ({ ok: false, error });

function parseNumber(raw: string, integer: boolean): Parsed {
  const text = raw.trim();
  if (!/^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return fail('must be a number');
  const value = Number(text);
  if (integer && !Number.isInteger(value)) return fail('must be a whole number');
  return { ok: true, value };
}

/** One field's raw input → its params value (undefined: leave it out). */
export function parseField(field: FormField, raw: string | boolean | undefined): Parsed {
  if (field.kind === 'boolean') {
    if (raw === true) return { ok: true, value: true };
    return { ok: true, value: field.schema.default === true ? false : undefined };
  }
  const text = typeof raw === 'string' ? raw : '';
  if (text.trim() === '' && !(field.kind === 'string' && text !== '')) {
    return field.required ? fail('is required') : { ok: true, value: undefined };
  }
  switch (field.kind) {
    case 'string':
      return { ok: true, value: text };
    case 'integer':
    case 'number':
      return parseNumber(text, field.kind === 'integer');
    case 'enum': {
      const option = field.options?.find((o) => String(o) === text);
      return option === undefined ? fail('is not one of the choices') : { ok: true, value: option };
    }
    case 'list': {
      const items = text.split('\n');
      while (items.length > 0 && items[items.length - 1]?.trim() === '') items.pop();
      const itemType = typesOf(field.schema.items ?? {})[0];
      if (itemType === 'string') return { ok: true, value: items };
      const numbers: number[] = [];
      for (const [i, item] of items.entries()) {
        const parsed = parseNumber(item, itemType === 'integer');
        if (!parsed.ok) return fail(`line ${i + 1} ${parsed.error}`);
        numbers.push(parsed.value as number);
      }
      return { ok: true, value: numbers };
    }
    case 'map': {
      const map: Record<string, string> = {};
      for (const [i, line] of text.split('\n').entries()) {
        if (line.trim() === '') continue;
        const eq = line.indexOf('=');
        if (eq <= 0) return fail(`line ${i + 1} must look like KEY=value`);
        map[line.slice(0, eq).trim()] = line.slice(eq + 1);
      }
      return { ok: true, value: map };
    }
    case 'json': {
      try {
        return { ok: true, value: JSON.parse(text) };
      } catch {
        // "200, 204" for a list of numbers is friendlier than "[200, 204]".
        const hasArray = (field.schema.anyOf ?? []).some((b) => typesOf(b).includes('array'));
        if (hasArray) {
          try {
            return { ok: true, value: JSON.parse(`[${text}]`) };
          } catch {}
        }
        if (allowsString(field.schema)) return { ok: true, value: text };
        return fail('must be valid JSON');
      }
    }
  }
}

// ---------- validation (the keywords TypeBox emits) ----------

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The first problem of `value` against `schema`, in words, or null. */
export function checkValue(schema: JsonSchema, value: unknown): string | null {
  if (schema.const !== undefined && value !== schema.const) {
    return `must be ${JSON.stringify(schema.const)}`;
  }
  if (schema.enum && !schema.enum.includes(value)) return 'is not one of the choices';
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    const problems = branches.map((b) => checkValue(b, value));
    if (problems.some((p) => p === null)) return null;
    if (!schema.type)
      return problems.length === 1 ? (problems[0] ?? null) : describeUnion(branches);
  }
  const types = typesOf(schema);
  if (types.length > 0 && !types.some((t) => hasType(value, t))) {
    return `must be ${types.map(singular).join(' or ')}`;
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) {
      return schema.minLength === 1
        ? 'is required'
        : `must be at least ${plural(schema.minLength, 'character')}`;
    }
    if (schema.maxLength !== undefined && value.length > schema.maxLength) {
      return `must be at most ${plural(schema.maxLength, 'character')}`;
    }
    if (schema.pattern !== undefined) {
      try {
        if (!new RegExp(schema.pattern, 'u').test(value)) {
          return describePattern(schema.pattern);
        }
      } catch {}
    }
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum)
      return `must be ≥ ${schema.minimum}`;
    if (schema.maximum !== undefined && value > schema.maximum)
      return `must be ≤ ${schema.maximum}`;
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) {
      return `must be > ${schema.exclusiveMinimum}`;
    }
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) {
      return `must be < ${schema.exclusiveMaximum}`;
    }
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      return `needs at least ${plural(schema.minItems, 'item')}`;
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      return `takes at most ${plural(schema.maxItems, 'item')}`;
    }
    if (schema.items) {
      for (const [i, item] of value.entries()) {
        const problem = checkValue(schema.items, item);
        if (problem) return `item ${i + 1} ${problem}`;
      }
    }
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const name of schema.required ?? []) {
      if (record[name] === undefined) return `needs "${name}"`;
    }
    for (const [key, item] of Object.entries(record)) {
      const declared = schema.properties?.[key];
      const patterns = Object.entries(schema.patternProperties ?? {}).filter(([p]) =>
        safeTest(p, key),
      );
      if (declared) {
        const problem = checkValue(declared, item);
        if (problem) return `"${key}" ${problem}`;
      } else if (patterns.length > 0) {
        for (const [, sub] of patterns) {
          const problem = checkValue(sub, item);
          if (problem) return `"${key}" ${problem}`;
        }
      } else if (schema.patternProperties || schema.additionalProperties === false) {
        return `"${key}" is not allowed here`;
      }
    }
  }
  return null;
}

function safeTest(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(text);
  } catch {
    return false;
  }
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'null':
      return value === null;
    default:
      return true;
  }
}

const singular = (type: string) =>
  ({ integer: 'a whole number', array: 'a list', object: 'an object', null: 'null' })[type] ??
  `a ${type}`;
const pluralNoun = (type: string) =>
  ({ integer: 'whole numbers', array: 'lists', object: 'objects', null: 'nulls' })[type] ??
  `${type}s`;

function describeUnion(branches: JsonSchema[]): string {
  return `must be ${branches.map(describeType).join(' or ')}`;
}

export function describeType(schema: JsonSchema): string {
  return describeAs(schema, singular);
}

// Items of a list read in the plural, the range after the noun: "a list of whole numbers from 100 to 599".
function describeAs(schema: JsonSchema, noun: (type: string) => string): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const types = typesOf(schema);
  if (types.includes('array') && schema.items)
    return `${noun === singular ? 'a list' : 'lists'} of ${describeAs(schema.items, pluralNoun)}`;
  const range =
    schema.minimum !== undefined && schema.maximum !== undefined
      ? ` from ${schema.minimum} to ${schema.maximum}`
      : '';
  if (types.length === 0)
    return schema.anyOf
      ? schema.anyOf.map((branch) => describeAs(branch, noun)).join(' or ')
      : 'any JSON value';
  return `${types.map(noun).join(' or ')}${range}`;
}

function describePattern(pattern: string): string {
  if (pattern === '^https?://') return 'must start with http:// or https://';
  return `must match ${pattern}`;
}

/** Builds params from the form; errors are keyed by field pointer. */
export function paramsFromValues(
  fields: readonly FormField[],
  values: FormValues,
): { params: Record<string, unknown>; errors: FormErrors } {
  const params: Record<string, unknown> = {};
  const errors: FormErrors = {};
  for (const field of fields) {
    const parsed = parseField(field, values[field.pointer]);
    if (!parsed.ok) {
      errors[field.pointer] = parsed.error;
      continue;
    }
    if (parsed.value === undefined) continue;
    const problem = checkValue(field.schema, parsed.value);
    if (problem) errors[field.pointer] = problem;
    else setAt(params, field.pointer, parsed.value);
  }
  return { params, errors };
}

/** The form field an API error path (`/body/params/args/2`) belongs to. */
export function fieldForPath(fields: readonly FormField[], path: string): FormField | undefined {
  if (!path.startsWith('/body/params')) return undefined;
  const inner = path.slice('/body/params'.length);
  return [...fields]
    .sort((a, b) => b.pointer.length - a.pointer.length)
    .find((f) => inner === f.pointer || inner.startsWith(`${f.pointer}/`));
}

/** A short hint under the input: what to type. */
export function fieldHint(field: FormField): string {
  const parts: string[] = [];
  switch (field.kind) {
    case 'list':
      parts.push(`one ${describeType(field.schema.items ?? {}).replace(/^an? /, '')} per line`);
      break;
    case 'map':
      parts.push('KEY=value, one per line');
      break;
    case 'json':
      parts.push(
        allowsString(field.schema) ? 'text, or JSON' : `JSON: ${describeType(field.schema)}`,
      );
      break;
    case 'integer':
    case 'number':
      if (field.schema.minimum !== undefined || field.schema.maximum !== undefined) {
        parts.push(describeType(field.schema));
      }
      break;
  }
  if (field.schema.default !== undefined && field.kind !== 'boolean') {
    parts.push(`default ${JSON.stringify(field.schema.default)}`);
  }
  return parts.join(' · ');
}
