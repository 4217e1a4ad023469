// What the browser suites do to a page besides driving it: screenshots in both themes, and
// axe-core's accessibility rules.
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { REPO_ROOT } from './stack.ts';

export const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'screenshots');
const DOCS_SCREENSHOTS = path.join(REPO_ROOT, 'docs', 'screenshots');
/** `TASKDOCK_UPDATE_DOCS_SCREENSHOTS=1` also refreshes the screenshots the docs show. */
const UPDATE_DOCS = process.env.TASKDOCK_UPDATE_DOCS_SCREENSHOTS === '1';
const DOCS_PAGES = new Set(['dashboard', 'task-detail', 'schedules']);

export const THEMES = ['light', 'dark'] as const;

/** Light and dark screenshots of the current page into test-artifacts/screenshots. */
export async function screenshots(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  // Toasts come and go: keep them out of the pictures.
  const hideToasts = await page.addStyleTag({ content: '.toasts { visibility: hidden; }' });
  for (const scheme of THEMES) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForTimeout(150);
    const file = path.join(ARTIFACTS, `${name}-${scheme}.png`);
    await page.screenshot({ path: file });
    if (UPDATE_DOCS && DOCS_PAGES.has(name)) {
      await mkdir(DOCS_SCREENSHOTS, { recursive: true });
      await copyFile(file, path.join(DOCS_SCREENSHOTS, `${name}-${scheme}.png`));
    }
  }
  await page.emulateMedia({ colorScheme: null });
  await hideToasts.evaluate((el) => (el as Element).remove());
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

let axeSource: string | undefined;

/**
 * Runs axe-core (WCAG 2.x A and AA rules and best practices) on the page as it is: each serious
 * or critical violation as one line with the rule, what it asks and where.
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  axeSource ??= await readFile(
    createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
    'utf8',
  );
  if (!(await page.evaluate(() => 'axe' in window)))
    await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run(context: unknown, options: unknown): Promise<{ violations: unknown[] }> };
      }
    ).axe;
    const result = await axe.run(document, {
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
      },
      resultTypes: ['violations'],
    });
    return result.violations;
  });
  return (violations as AxeViolation[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} at ${v.nodes
          .slice(0, 3)
          .map(
            (n) =>
              `${JSON.stringify(n.target)}${n.failureSummary ? ` — ${n.failureSummary.split('\n').slice(1).join(' ').trim()}` : ''}`,
          )
          .join('; ')}`,
    );
}
