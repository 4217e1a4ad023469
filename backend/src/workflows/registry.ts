import {
  type FieldError,
  isWorkflowName,
  patternMessage,
  WORKFLOW_NAME_PATTERN,
  type WorkflowLoadError,
  type WorkflowSource,
} from '@taskdock/shared/contract';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { httpWorkflow } from './http.ts';
import { createShellWorkflow, type ShellOptions } from './shell.ts';
import { sleepWorkflow } from './sleep.ts';
import type { Workflow } from './workflow.ts';
import type { LoadedFile } from './workflow-files.ts';

export type ParamsCheck =
  | { ok: true; params: Record<string, unknown> }
  | { ok: false; errors: FieldError[] };

/** A workflow file that did not load, under its name (or its file's base name). */
export interface BrokenWorkflow {
  readonly name: string;
  readonly file: string;
  readonly error: WorkflowLoadError;
}

export interface WorkflowRegistry {
  /** The usable workflow of that name (built-in or loaded from a file). */
  get(name: string): Workflow | undefined;
  list(): readonly Workflow[];
  /** Validates params (a copy gets the schema's defaults); paths are relative to `params`. */
  checkParams(name: string, params: unknown): ParamsCheck;
  /** The error of the file that defines `name` when no usable workflow has that name. */
  loadError(name: string): WorkflowLoadError | undefined;
  /** Where the usable workflow `name` is defined. */
  sourceOf(name: string): WorkflowSource | undefined;
  /** The workflow files that did not load, with their errors. */
  broken(): readonly BrokenWorkflow[];
  /**
   * Replaces the workflows from files with these (built-ins stay). A name that clashes with a
   * built-in or another file is an error of the file(s); a schema that does not compile too.
   */
  setFiles(files: readonly LoadedFile[]): void;
  /** Calls `listener` after each setFiles; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

interface Usable {
  readonly workflow: Workflow;
  readonly validate: ValidateFunction;
  readonly source: WorkflowSource;
}

export function createWorkflowRegistry(builtIns: readonly Workflow[]): WorkflowRegistry {
  // Never coerces: `"5"` for a number is an error, as in the API's own schemas.
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: false });
  const builtInByName = new Map<string, Usable>();
  for (const workflow of builtIns) {
    if (builtInByName.has(workflow.name))
      throw new Error(`Workflow "${workflow.name}" is registered twice`);
    if (!isWorkflowName(workflow.name)) {
      throw new Error(`Workflow name "${workflow.name}" ${WORKFLOW_NAME_PATTERN.message}`);
    }
    builtInByName.set(workflow.name, {
      workflow,
      validate: ajv.compile(workflow.paramsSchema),
      source: { kind: 'built-in' },
    });
  }
  let byName = new Map(builtInByName);
  let broken: BrokenWorkflow[] = [];
  const listeners = new Set<() => void>();

  /** Compiled once per Workflow object: an unchanged file keeps its validator across reloads. */
  const compiled = new WeakMap<Workflow, ValidateFunction>();
  const compile = (workflow: Workflow) => {
    let validate = compiled.get(workflow);
    if (!validate) {
      validate = ajv.compile(workflow.paramsSchema);
      compiled.set(workflow, validate);
    }
    return validate;
  };

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
    loadError: (name) =>
      byName.has(name) ? undefined : broken.find((entry) => entry.name === name)?.error,
    sourceOf: (name) => byName.get(name)?.source,
    broken: () => broken,
    setFiles(files) {
      const next = new Map(builtInByName);
      const nextBroken: typeof broken = [];
      const fail = (file: string, name: string, message: string) =>
        nextBroken.push({ name, file, error: { file, message } });
      // Files that claim each name: two files with one name are both errors, naming each other.
      const claims = new Map<string, string[]>();
      for (const loaded of files) {
        if (!('workflow' in loaded)) continue;
        const { name } = loaded.workflow;
        claims.set(name, [...(claims.get(name) ?? []), loaded.file]);
      }
      for (const loaded of files) {
        if (!('workflow' in loaded)) {
          nextBroken.push({ name: loaded.name, file: loaded.file, error: loaded.error });
          continue;
        }
        const { workflow, file } = loaded;
        const others = (claims.get(workflow.name) ?? []).filter((f) => f !== file);
        if (builtInByName.has(workflow.name)) {
          fail(
            file,
            workflow.name,
            `name "${workflow.name}" is taken by the built-in workflow "${workflow.name}"`,
          );
        } else if (others.length > 0) {
          fail(
            file,
            workflow.name,
            `name "${workflow.name}" is also defined in ${others.join(', ')}`,
          );
        } else {
          try {
            next.set(workflow.name, {
              workflow,
              validate: compile(workflow),
              source: { kind: 'file', path: file },
            });
          } catch (err) {
            fail(
              file,
              workflow.name,
              `the params schema does not compile: ${(err as Error).message}`,
            );
          }
        }
      }
      byName = next;
      broken = nextBroken;
      for (const listener of listeners) listener();
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** An Ajv error as a field error: path to the field itself (a missing or extra key included). */
export function toFieldError(error: ErrorObject): FieldError {
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
