import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkValue,
  describeType,
  fieldForPath,
  formFields,
  type JsonSchema,
  paramsFromValues,
  valuesFromParams,
} from '../lib/json-schema.ts';

// The params schemas of the built-in workflows, as GET /api/workflows sends them.
const shell: JsonSchema = {
  additionalProperties: false,
  type: 'object',
  required: ['command'],
  properties: {
    command: { minLength: 1, maxLength: 4096, type: 'string' },
    args: {
      maxItems: 1000,
      default: [],
      type: 'array',
      items: { maxLength: 65536, type: 'string' },
    },
    cwd: { minLength: 1, maxLength: 4096, type: 'string' },
    env: { type: 'object', patternProperties: { '^[^=\\0]+$': { type: 'string' } } },
  },
};
const http: JsonSchema = {
  additionalProperties: false,
  type: 'object',
  required: ['url'],
  properties: {
    url: { pattern: '^https?://', maxLength: 8192, type: 'string' },
    method: {
      default: 'GET',
      anyOf: ['GET', 'POST', 'DELETE'].map((m) => ({ const: m, type: 'string' })),
    },
    body: { description: 'a string is sent as is, anything else as JSON' },
    expectStatus: {
      anyOf: [
        { minimum: 100, maximum: 599, type: 'integer' },
        { minItems: 1, type: 'array', items: { minimum: 100, maximum: 599, type: 'integer' } },
      ],
    },
  },
};
const sleep: JsonSchema = {
  type: 'object',
  required: ['ms'],
  properties: {
    ms: { minimum: 0, maximum: 86_400_000, type: 'integer' },
    steps: { minimum: 1, maximum: 1000, default: 1, type: 'integer' },
    nested: { type: 'object', properties: { flag: { type: 'boolean' } } },
  },
};

describe('params form from a JSON Schema', () => {
  test('one field per property, with a kind the inputs understand', () => {
    const kinds = (s: JsonSchema) =>
      formFields(s).map((f) => `${f.pointer}:${f.kind}${f.required ? '!' : ''}`);
    assert.deepEqual(kinds(shell), ['/command:string!', '/args:list', '/cwd:string', '/env:map']);
    assert.deepEqual(kinds(http), [
      '/url:string!',
      '/method:enum',
      '/body:json',
      '/expectStatus:json',
    ]);
    assert.deepEqual(kinds(sleep), ['/ms:integer!', '/steps:integer', '/nested/flag:boolean']);
    assert.deepEqual(formFields(http)[1]?.options, ['GET', 'POST', 'DELETE']);
  });

  test('values become params; empty optional fields are left to the server defaults', () => {
    const { params, errors } = paramsFromValues(formFields(shell), {
      '/command': 'sh',
      '/args': '-c\necho "a b"\n\n',
      '/env': 'A=1\nB=x=y\n',
      '/cwd': '',
    });
    assert.deepEqual(errors, {});
    assert.deepEqual(params, {
      command: 'sh',
      args: ['-c', 'echo "a b"'],
      env: { A: '1', B: 'x=y' },
    });

    const nested = paramsFromValues(formFields(sleep), { '/ms': '250', '/nested/flag': true });
    assert.deepEqual(nested.params, { ms: 250, nested: { flag: true } });
  });

  test('inline errors say what is wrong, per field', () => {
    const { errors } = paramsFromValues(formFields(shell), { '/env': 'no-equals-sign' });
    assert.deepEqual(errors, {
      '/command': 'is required',
      '/env': 'line 1 must look like KEY=value',
    });

    const http1 = paramsFromValues(formFields(http), { '/url': 'ftp://x', '/expectStatus': '99' });
    assert.equal(http1.errors['/url'], 'must start with http:// or https://');
    assert.match(http1.errors['/expectStatus'] ?? '', /≥ 100|must be/);

    const sleep1 = paramsFromValues(formFields(sleep), { '/ms': '1.5', '/steps': '0' });
    assert.deepEqual(sleep1.errors, { '/ms': 'must be a whole number', '/steps': 'must be ≥ 1' });
  });

  test('JSON fields take JSON, plain text where a string is allowed, and "200, 204" lists', () => {
    const fields = formFields(http);
    const { params, errors } = paramsFromValues(fields, {
      '/url': 'https://example.com',
      '/body': 'plain text',
      '/expectStatus': '200, 204',
    });
    assert.deepEqual(errors, {});
    assert.deepEqual(params, {
      url: 'https://example.com',
      body: 'plain text',
      expectStatus: [200, 204],
    });
    assert.deepEqual(
      paramsFromValues(fields, { '/url': 'http://x', '/body': '{"a":1}' }).params.body,
      { a: 1 },
    );
  });

  test('existing params fill the form back (run again)', () => {
    const fields = formFields(shell);
    const params = { command: 'sh', args: ['-c', 'exit 3'], env: { A: '1' } };
    const values = valuesFromParams(fields, params);
    assert.deepEqual(values, { '/command': 'sh', '/args': '-c\nexit 3', '/env': 'A=1' });
    assert.deepEqual(paramsFromValues(fields, values).params, params);
  });

  test("the API's field errors land on the field they name", () => {
    const fields = formFields(shell);
    assert.equal(fieldForPath(fields, '/body/params/args/2')?.pointer, '/args');
    assert.equal(fieldForPath(fields, '/body/params/command')?.pointer, '/command');
    assert.equal(fieldForPath(fields, '/body/priority'), undefined);
  });

  test('checkValue covers the keywords TypeBox emits', () => {
    assert.equal(checkValue(shell, { command: 'ls' }), null);
    assert.equal(checkValue(shell, { command: 'ls', extra: 1 }), '"extra" is not allowed here');
    assert.equal(checkValue(shell, {}), 'needs "command"');
    assert.equal(
      checkValue({ type: 'string', maxLength: 2 }, 'abc'),
      'must be at most 2 characters',
    );
    assert.equal(checkValue({ type: 'array', minItems: 1 }, []), 'needs at least 1 item');
    assert.equal(checkValue({ const: 'GET' }, 'PUT'), 'must be "GET"');
  });
});

describe('type descriptions in hints', () => {
  test('a list of integers with a range reads as plain English', () => {
    const statuses: JsonSchema = {
      type: 'array',
      items: { type: 'integer', minimum: 100, maximum: 599 },
    };
    assert.equal(describeType(statuses), 'a list of whole numbers from 100 to 599');
    assert.equal(describeType({ type: 'array', items: { type: 'string' } }), 'a list of strings');
    assert.equal(
      describeType({ type: 'array', items: { type: 'array', items: { type: 'object' } } }),
      'a list of lists of objects',
    );
    assert.equal(
      describeType({ type: 'integer', minimum: 1, maximum: 5 }),
      'a whole number from 1 to 5',
    );
  });
});
