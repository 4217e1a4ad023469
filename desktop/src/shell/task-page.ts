/** The UI's task detail page (frontend/app/(dashboard)/tasks/detail/page.tsx). */
export const TASK_PAGE_PATH = '/tasks/detail';

/** The task a page of the window shows, when it is a task's detail page of `origin`. */
export function taskIdOfPage(pageUrl: string, origin: string): string | undefined {
  if (!URL.canParse(pageUrl)) return undefined;
  const url = new URL(pageUrl);
  if (url.origin !== origin || url.pathname !== TASK_PAGE_PATH) return undefined;
  return url.searchParams.get('id') || undefined;
}

/** A sign-in link (@taskdock/shared/node/sign-in) that lands on the task's detail page. */
export function taskPageSignIn(signInUrl: string, taskId: string): string {
  const url = new URL(signInUrl);
  url.pathname = TASK_PAGE_PATH;
  url.searchParams.set('id', taskId);
  return url.toString();
}
