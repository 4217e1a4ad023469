import { BrandMark } from './ui/icons';

/** What a visitor without a session sees: how to get one, never a blank page or a raw 401. */
export function SignedOut({ reason }: { reason?: 'invalid' | 'expired' | null }) {
  return (
    <main className="gate">
      <div className="card gate-card">
        <BrandMark width={32} height={32} />
        <h1>
          Open Taskdock from the app or the link printed by <code>npm run serve</code>
        </h1>
        {reason === 'invalid' ? (
          <p role="alert">
            That sign-in link has already been used (each link works once) or does not belong to
            this Taskdock.
          </p>
        ) : reason === 'expired' ? (
          <p role="alert">Your session has ended.</p>
        ) : (
          <p>This browser is not signed in to Taskdock.</p>
        )}
        <ol>
          <li>
            In the desktop app, the window signs itself in: use <strong>Open Taskdock</strong> from
            the tray or the app menu.
          </li>
          <li>
            Headless: <code>npm run serve</code> prints a one-time <strong>Sign in</strong> link,
            and <code>runtime.json</code> in the data directory holds it as <code>uiUrl</code>.
            Restart it for a fresh link.
          </li>
          <li>Scripts and tools use the API token as a bearer token instead.</li>
        </ol>
      </div>
    </main>
  );
}
