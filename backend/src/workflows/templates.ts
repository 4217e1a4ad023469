import type { FieldError } from '@taskdock/shared/contract';

/** `{{params.size}}`, spaces allowed inside the braces. */
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const PARAM_REF = /^params\.([A-Za-z_][A-Za-z0-9_-]*)$/;

/**
 * The param names a template refers to, or the problems with it (a placeholder that is not
 * `params.<name>`, or names the params schema does not define). `at` is the template's path.
 */
export function checkTemplate(
  template: string,
  at: string,
  known: ReadonlySet<string>,
): FieldError[] {
  const errors: FieldError[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const ref = PARAM_REF.exec(match[1] ?? '');
    if (!ref?.[1]) {
      errors.push({ path: at, message: `"${match[0]}" is not a placeholder: use {{params.NAME}}` });
    } else if (!known.has(ref[1])) {
      errors.push({
        path: at,
        message: `"${match[0]}" names a param that "params.properties" does not define`,
      });
    }
  }
  return errors;
}

/** How a param's value reads inside an argument. */
function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/**
 * The template with each placeholder replaced by the param's value: always one string, which
 * becomes exactly one argument (or one variable, one path). Nothing in a value is interpreted,
 * so spaces, quotes, `;` or `$(…)` arrive as they were written.
 */
export function expandTemplate(
  template: string,
  params: Readonly<Record<string, unknown>>,
): string {
  return template.replace(PLACEHOLDER, (_whole, expression: string) => {
    const name = PARAM_REF.exec(expression)?.[1];
    return name === undefined ? '' : asText(params[name]);
  });
}
