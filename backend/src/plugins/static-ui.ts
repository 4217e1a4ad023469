import { stat } from 'node:fs/promises';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import { readUiBuildStatus, type UiBuildStatus } from '@taskdock/shared/node/ui-build-status';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PUBLIC_ROUTE } from './security.ts';

/**
 * The Next.js static export shows the UI itself; the session gate lives in the app (it asks
 * `GET /api/session` and shows "open Taskdock from the app…" when signed out), so these files
 * hold no secrets and need no cookie.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  // Next's static export bootstraps with inline scripts.
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const IMMUTABLE = 'public, max-age=31536000, immutable';

async function isFile(file: string): Promise<boolean> {
  return stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

/**
 * `/tasks//new/` → `tasks/new`, decoded; null if malformed or with `.` / `..` segments (a
 * browser removes those before it asks, so they only come from probes).
 */
function uiRelativePath(urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const segments = decoded.split('/').filter(Boolean);
  return segments.some((s) => s === '.' || s === '..') ? null : segments.join('/');
}

/** `%2561pi` → `api`: decoded until it stops changing (a few rounds at most). */
function fullyDecoded(text: string): string {
  let current = text;
  for (let round = 0; round < 4; round++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return current;
    }
    if (next === current) return current;
    current = next;
  }
  return current;
}

/**
 * A path the router did not send to the API but that names it (`//api/tasks`, `/API/tasks`,
 * `/api;x/tasks`, `/api%252Ftasks`): a mangled API call, not a page, so it gets the JSON 404.
 */
const namesApi = (relative: string) =>
  /^(api|metrics)(?![A-Za-z0-9_-])/i.test(fullyDecoded(relative));

/** `/tasks/new` → `tasks/new.html` (Next's export without trailing slashes), `/` → `index.html`. */
export async function resolveUiFile(root: string, urlPath: string): Promise<string | null> {
  const relative = uiRelativePath(urlPath);
  if (relative === null) return null;
  const candidates =
    relative === '' ? ['index.html'] : [relative, `${relative}.html`, `${relative}/index.html`];
  for (const candidate of candidates) {
    const full = path.join(root, candidate);
    if (!full.startsWith(root + path.sep)) continue;
    if (await isFile(full)) return candidate;
  }
  return null;
}

function uiHeaders(reply: FastifyReply, file: string): void {
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  if (file.startsWith('_next/static/')) {
    reply.header('cache-control', IMMUTABLE);
  } else {
    reply.header('cache-control', 'no-cache');
  }
  if (file.endsWith('.html')) {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('x-frame-options', 'DENY');
  }
}

const escapeHtml = (text: string) =>
  text.replace(
    /[<>&"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c,
  );

/** How often the "being built" page reloads itself: the build takes about a minute. */
export const BUILDING_RELOAD_SECONDS = 5;

const LOST_LINK = `<p>Lost the link? A fresh one is in <code>runtime.json</code> in the data directory
(<code>uiUrl</code>) and in the output of <code>npm run serve</code>; the desktop app signs its
window in itself.</p>`;

/** The page for every UI path while `uiDir` holds no build: being built, failed, or not built. */
function notBuiltPage(uiDir: string, status: UiBuildStatus | null): string {
  const dir = `<code>${escapeHtml(uiDir)}</code>`;
  const [title, refresh, body] =
    status?.state === 'building'
      ? [
          'The Taskdock UI is being built',
          `<meta http-equiv="refresh" content="${BUILDING_RELOAD_SECONDS}">`,
          `<p>This is the first start of this checkout: the API runs, and the UI is being built
into ${dir} (about a minute; output in <code>${escapeHtml(status.log)}</code>).
This page reloads by itself and shows the UI when the build is done; the sign-in link you
opened still works (it is used only once the UI shows).</p>`,
        ]
      : status?.state === 'failed'
        ? [
            'The Taskdock UI build failed',
            '',
            `<p>The API runs, but building the UI into ${dir} failed:</p>
<pre style="white-space:pre-wrap">${escapeHtml(status.message)}</pre>
<p>The whole output is in <code>${escapeHtml(status.log)}</code>. Run
<code>npm run build:frontend</code> to see it again, then reload this page: no restart is
needed, and the sign-in link you opened still works.</p>`,
          ]
        : [
            'The Taskdock UI is not built',
            '',
            `<p>The API runs, but ${dir} holds no UI build.
Run <code>npm run build:frontend</code> (about a minute), then reload this page: no restart is
needed, and the sign-in link you opened still works (it is used only once the UI shows).</p>`,
          ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="color-scheme" content="light dark">
${refresh}<title>Taskdock — ${title.replace('The Taskdock UI ', 'UI ')}</title></head>
<body style="font:15px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem">
<h1 style="font-size:1.25rem">${title}</h1>
${body}
${LOST_LINK}
</body></html>`;
}

/**
 * Serves the static export from `uiDir` for every non-API GET, without the token (the files are
 * public). Unknown API paths still get the JSON 404, behind the guard like every API route;
 * unknown pages get the export's 404 page.
 *
 * Without a build (a fresh clone) every page is the "UI not built" page, and a sign-in link is
 * left unused until the build appears. The supervisor's first start of a checkout builds it
 * (desktop `ui-build.ts`) and says so in `<uiDir>.build.json`: the page then says the UI is
 * being built and reloads itself, or why the build failed.
 */
export async function registerStaticUi(app: FastifyInstance, uiDir: string): Promise<void> {
  const root = path.resolve(uiDir);
  // The build may appear while the server runs (`npm run build:frontend`): checked per request.
  const built = () => isFile(path.join(root, 'index.html'));
  await app.register(fastifyStatic, { root, serve: false, dotfiles: 'deny' });

  // More specific than `/*`, so the router sends unknown API paths here, and they are not public.
  const apiNotFound = (_request: FastifyRequest, reply: FastifyReply) => reply.callNotFound();
  app.all('/api', { schema: { hide: true } }, apiNotFound);
  app.all('/api/*', { schema: { hide: true } }, apiNotFound);

  const route = { config: { ...PUBLIC_ROUTE.config, signInReady: built }, schema: { hide: true } };
  app.get('/*', route, async (request, reply) => {
    const urlPath = request.url.split('?')[0] ?? '/';
    const relative = uiRelativePath(urlPath);
    if (relative === null || namesApi(relative)) return reply.callNotFound();
    const file = await resolveUiFile(root, urlPath);
    if (file) {
      uiHeaders(reply, file);
      return reply.sendFile(file, { cacheControl: false });
    }
    if (!(await built())) {
      return reply
        .status(503)
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(notBuiltPage(root, await readUiBuildStatus(root)));
    }
    reply.status(404);
    if (await isFile(path.join(root, '404.html'))) {
      uiHeaders(reply, '404.html');
      return reply.sendFile('404.html', { cacheControl: false });
    }
    return reply.type('text/plain; charset=utf-8').send('Not found');
  });
}
