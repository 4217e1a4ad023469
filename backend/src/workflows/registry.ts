import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import {
  type FieldError,
  isWorkflowName,
  patternMessage,
  WORKFLOW_NAME_PATTERN,
} from '../contract/index.ts';
import { httpWorkflow } from './http.ts';
import { createShellWorkflow, type ShellOptions } from './shell.ts';
import { sleepWorkflow } from './sleep.ts';
import type { Workflow } from './workflow.ts';

export type ParamsCheck =
  | { ok: true; params: Record<string, unknown> }
  | { ok: false; errors: FieldError[] };

export interface WorkflowRegistry {
  get(name: string): Workflow | undefined;
  list(): readonly Workflow[];
  /** Validates params (a copy gets the schema's defaults); paths are relative to `params`. */
  checkParams(name: string, params: unknown): ParamsCheck;
}

export function createWorkflowRegistry(workflows: readonly Workflow[]): WorkflowRegistry {
  // Never coerces: `"5"` for a number is an error, as in the API's own schemas.
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: false });
  const byName = new Map<string, { workflow: Workflow; validate: ValidateFunction }>();
  for (const workflow of workflows) {
    if (byName.has(workflow.name))
      throw new Error(`Workflow "${workflow.name}" is registered twice`);
    if (!isWorkflowName(workflow.name)) {
      throw new Error(`Workflow name "${workflow.name}" ${WORKFLOW_NAME_PATTERN.message}`);
    }
    byName.set(workflow.name, { workflow, validate: ajv.compile(workflow.paramsSchema) });
  }
  return {
    get: (name) => byName.get(name)?.workflow,
    list: () => [...byName.values()].map((entry) => entry.workflow),
    checkParams(name, params) {
      const entry = byName.get(name);
      if (!entry)
        return { ok: false, errors: [{ path: '', message: `unknown workflow "${name}"` }] };
      const copy = structuredClone(params ?? {}) as Record<string, unknown>;
      if (!entry.validate(copy)) {
        return { ok: false, errors: (entry.validate.errors ?? []).map(toFieldError) };
      }
      const errors = entry.workflow.checkParams?.(copy) ?? [];
      return errors.length === 0 ? { ok: true, params: copy } : { ok: false, errors };
    },
  };
}

function toFieldError(error: ErrorObject): FieldError {
  const extra =
    error.keyword === 'additionalProperties'
      ? `/${(error.params as { additionalProperty: string }).additionalProperty}`
      : error.keyword === 'required'
        ? `/${(error.params as { missingProperty: string }).missingProperty}`
        : '';
  const message =
    (error.keyword === 'pattern' && patternMessage(String(error.params.pattern))) ||
    error.message ||
    'is invalid';
  return { path: `${error.instancePath}${extra}`, message };
}

export function builtInWorkflows(options: ShellOptions): Workflow[] {
  return [createShellWorkflow(options), httpWorkflow, sleepWorkflow] as Workflow[];
}

/** `*`, `?` globs as used by TASKDOCK_WORKFLOWS. */
export function matchesAnyGlob(name: string, globs: readonly string[]): boolean {
  return globs.some((glob) => {
    const pattern = glob
      .replace(/[.+^${}()|[\]\\-]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    return new RegExp(`^${pattern}$`).test(name);
  });
}
