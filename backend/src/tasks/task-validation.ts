import {
  type CreateTask,
  describeWorkflowLoadError,
  type FieldError,
  TASK_LIMITS,
  type UpsertSchedule,
} from '@taskdock/shared/contract';
import { InvalidInputError } from '../engine/errors.ts';
import type { WorkflowRegistry } from '../workflows/registry.ts';
import { checkCronSchedule } from './cron-check.ts';

/**
 * Checks a task against its workflow's schema; InvalidInputError with every failing field.
 * Returns the params with the schema's defaults. Every engine validates with this.
 */
export function validateTask(
  registry: WorkflowRegistry,
  input: CreateTask,
): Record<string, unknown> {
  const loadError = registry.loadError(input.workflow);
  if (loadError) {
    throw new InvalidInputError(
      'WORKFLOW_NOT_LOADED',
      `Workflow "${input.workflow}" did not load, so it takes no tasks: ${describeWorkflowLoadError(loadError)}`,
      [{ path: '/workflow', message: `did not load: ${describeWorkflowLoadError(loadError)}` }],
    );
  }
  if (!registry.get(input.workflow)) {
    throw new InvalidInputError('UNKNOWN_WORKFLOW', `Unknown workflow "${input.workflow}"`, [
      {
        path: '/workflow',
        message: `must be one of: ${registry
          .list()
          .map((w) => w.name)
          .join(', ')}`,
      },
    ]);
  }
  const errors: FieldError[] = [];
  const check = registry.checkParams(input.workflow, input.params ?? {});
  if (!check.ok) {
    errors.push(...check.errors.map((e) => ({ ...e, path: `/params${e.path}` })));
  }
  if (input.runAt !== undefined && input.delayMs !== undefined) {
    errors.push({ path: '/runAt', message: 'give either runAt or delayMs, not both' });
  } else if (input.runAt !== undefined) {
    // The same bound as delayMs: runAt is only another way to give the delay.
    if (Date.parse(input.runAt) - Date.now() > TASK_LIMITS.maxDelayMs) {
      errors.push({
        path: '/runAt',
        message: `is more than ${TASK_LIMITS.maxDelayMs / 86_400_000} days ahead (maxDelayMs)`,
      });
    }
  }
  if (errors.length > 0) {
    throw new InvalidInputError(
      'INVALID_PARAMS',
      `Invalid task for workflow "${input.workflow}"`,
      errors,
      true,
    );
  }
  return check.ok ? check.params : {};
}

/** All or nothing: the params of every task, or one error with the problems of all of them. */
export function validateTasks(
  registry: WorkflowRegistry,
  inputs: readonly CreateTask[],
): Record<string, unknown>[] {
  const problems: FieldError[] = [];
  const checked = inputs.map((input, i) => {
    try {
      return validateTask(registry, input);
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      problems.push(...err.under(`/tasks/${i}`).fields);
      return {};
    }
  });
  if (problems.length > 0) {
    throw new InvalidInputError(
      'INVALID_PARAMS',
      `${problems.length} problem(s) in the batch; nothing was queued`,
      problems,
    );
  }
  return checked;
}

/** Checks a schedule's pattern, time zone and params at once; returns the params. */
export function validateSchedule(
  registry: WorkflowRegistry,
  input: UpsertSchedule,
): Record<string, unknown> {
  const problems = checkCronSchedule(input.pattern, input.tz);
  let params: Record<string, unknown> = {};
  try {
    params = validateTask(registry, { workflow: input.workflow, params: input.params ?? {} });
  } catch (err) {
    if (problems.length === 0 || !(err instanceof InvalidInputError)) throw err;
    problems.push(...err.fields);
  }
  if (problems.length > 0) {
    throw new InvalidInputError('INVALID_SCHEDULE', 'Invalid schedule', problems, true);
  }
  return params;
}
