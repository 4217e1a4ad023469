export function Spinner({ label }: { label?: string }) {
  if (label) return <span className="spinner" role="status" aria-label={label} />;
  return <span className="spinner" aria-hidden="true" />;
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading-row" role="status">
      <Spinner />
      {label}
    </div>
  );
}
