export function ProgressBar({
  percent,
  tone,
  size = 'md',
  label,
}: {
  percent: number;
  /** A final status colours the bar. */
  tone?: 'completed' | 'failed' | 'cancelled';
  size?: 'md' | 'lg';
  label: string;
}) {
  const value = Math.max(0, Math.min(100, Math.round(percent)));
  const className = ['progress', size === 'lg' && 'progress-lg', tone && `progress-${tone}`]
    .filter(Boolean)
    .join(' ');
  return (
    <div
      className={className}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value}
    >
      <div className="progress-fill" style={{ width: `${value}%` }} />
    </div>
  );
}
