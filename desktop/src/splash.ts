import type { ServiceInfo } from '@taskdock/shared/contract';
import type { SupervisorEvent } from './supervisor/supervisor.ts';

/** One row of the splash screen. */
export interface SplashStep {
  readonly service: string;
  readonly state: 'starting' | 'ready' | 'failed' | 'restarting' | 'stopped' | 'unused';
  readonly text: string;
}

export function splashStep(event: SupervisorEvent): SplashStep {
  switch (event.type) {
    case 'starting':
      return { service: event.service, state: 'starting', text: 'starting…' };
    case 'ready':
      return { service: event.service, state: 'ready', text: `ready in ${event.durationMs} ms` };
    case 'failed':
      return { service: event.service, state: 'failed', text: event.reason };
    case 'restarting':
      return {
        service: event.service,
        state: 'restarting',
        text: `restarting in ${event.delayMs} ms`,
      };
    case 'stopped':
      return { service: event.service, state: 'stopped', text: 'stopped' };
  }
}

/**
 * Rows of services that do not run in this mode (redis and worker in memory mode): the
 * supervisor lists them as `unused` with "not used in memory mode: <reason>".
 */
export function unusedSteps(services: readonly ServiceInfo[]): SplashStep[] {
  return services
    .filter((s) => s.status === 'unused')
    .map((s) => ({
      service: s.name,
      state: 'unused',
      text: s.message ?? 'not used in memory mode',
    }));
}

/**
 * The splash page as a data: URL. It shows one row per service; the main process calls
 * `window.taskdockStep(step)` (executeJavaScript) as startup events arrive. No Node, no remote
 * content.
 */
export function splashUrl(services: readonly string[]): string {
  const rows = services
    .map((s) => `<li id="svc-${s}" data-state="pending"><b>${s}</b><span>waiting</span></li>`)
    .join('');
  const html = `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline' 'unsafe-eval'">
<title>Taskdock</title><style>
:root { color-scheme: light dark; font: 14px system-ui, sans-serif; }
body { margin: 0; padding: 28px 32px; user-select: none; -webkit-app-region: drag; }
h1 { font-size: 20px; margin: 0 0 4px; } p { margin: 0 0 18px; opacity: .7; }
ul { list-style: none; padding: 0; margin: 0; }
li { display: flex; gap: 12px; align-items: baseline; padding: 6px 0; }
li b { width: 70px; font-weight: 600; } li span { opacity: .8; overflow-wrap: anywhere; }
li::before { content: ''; width: 9px; height: 9px; border-radius: 50%; background: #9ca3af; flex: none; align-self: center; }
li[data-state="starting"]::before, li[data-state="restarting"]::before { background: #3b82f6; }
li[data-state="ready"]::before { background: #16a34a; }
li[data-state="failed"]::before { background: #dc2626; }
li[data-state="unused"] { opacity: .6; } li[data-state="unused"]::before { background: transparent; border: 1px solid #9ca3af; }
</style></head><body><h1>Taskdock</h1><p>Starting the services…</p><ul>${rows}</ul>
<script>
window.taskdockStep = (step) => {
  const li = document.getElementById('svc-' + step.service);
  if (!li) return;
  li.dataset.state = step.state;
  li.querySelector('span').textContent = step.text;
};
</script></body></html>`;
  return `data:text/html;charset=utf-8,${encodeURIComponent(html)}`;
}
