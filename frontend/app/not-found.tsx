import Link from 'next/link';

export default function NotFound() {
  return (
    <main className="gate">
      <div className="card gate-card">
        <h1>Page not found</h1>
        <p>There is no page at this address.</p>
        <p>
          <Link className="link" href="/">
            Go to the dashboard
          </Link>
        </p>
      </div>
    </main>
  );
}
