import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FieldError } from '../contract/index.ts';
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
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: false });
  const byName = new Map<string, { workflow: Workflow; validate: ValidateFunction }>();
  for (const workflow of workflows) {
    if (byName.has(workflow.name))
      throw new Error(`Workflow "${workflow.name}" is registered twice`);
    if (!/^[A-Za-z0-9_.-]+$/.test(workflow.name)) {
      throw new Error(`Workflow name "${workflow.name}" must match [A-Za-z0-9_.-]+`);
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
      if (entry.validate(copy)) return { ok: true, params: copy };
      return { ok: false, errors: (entry.validate.errors ?? []).map(toFieldError) };
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
  return { path: `${error.instancePath}${extra}`, message: error.message ?? 'is invalid' };
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
