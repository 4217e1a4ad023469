'use client';

import { type ReactNode, useMemo, useState } from 'react';
import { formatBytes } from '@/lib/format';
import { Button } from './ui/button';
import { CopyIcon, DownloadIcon } from './ui/icons';
import { useToast } from './ui/toast';

/** Shown at first; "show all" renders up to FULL_LIMIT; beyond that only the download has it. */
const PREVIEW_CHARS = 4_000;
const FULL_LIMIT = 400_000;

export function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

const TOKEN =
  /("(?:[^"\\]|\\.)*")(\s*:)?|\b(true|false)\b|\b(null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
/** Colours for the JSON of a shown block (bounded: it only ever sees the shown text). */
const HIGHLIGHT_LIMIT = 60_000;

function highlightJson(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const at = match.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    const [token, string, colon, boolean, nil] = match;
    const kind = string
      ? colon
        ? 'key'
        : 'string'
      : boolean
        ? 'boolean'
        : nil
          ? 'null'
          : 'number';
    out.push(
      <span key={at} className={`json-${kind}`}>
        {string ?? token}
      </span>,
    );
    if (colon) out.push(colon);
    last = at + token.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/**
 * A JSON value (params, result): capped and collapsible, so a 10 MB result never freezes the
 * page; copy and download always have the whole of it.
 */
export function JsonBlock({
  value,
  name,
  empty = 'None',
}: {
  value: unknown;
  /** For the download's file name. */
  name: string;
  empty?: string;
}) {
  const text = useMemo(() => (value === undefined ? '' : stringify(value)), [value]);
  const [expanded, setExpanded] = useState(false);
  const toast = useToast();
  if (value === undefined)
    return (
      <p className="muted" style={{ margin: 0 }}>
        {empty}
      </p>
    );
  const long = text.length > PREVIEW_CHARS;
  const huge = text.length > FULL_LIMIT;
  const shown = !long ? text : expanded ? text.slice(0, FULL_LIMIT) : text.slice(0, PREVIEW_CHARS);
  const isJson = typeof value !== 'string';

  const download = () => {
    const blob = new Blob([text], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `${name.replace(/[^\w.-]+/g, '_')}.json`;
    a.click();
    URL.revokeObjectURL(url);
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      toast('Copied to the clipboard', 'success');
    } catch {
      toast('The browser refused access to the clipboard', 'error');
    }
  };

  return (
    <div>
      <pre className={`code-block${expanded ? ' tall' : ''}`}>
        {isJson && shown.length <= HIGHLIGHT_LIMIT ? highlightJson(shown) : shown}
        {long && (!expanded || huge) ? '\n…' : ''}
      </pre>
      <div className="clip-note">
        {long ? (
          <>
            <span>
              {expanded && !huge
                ? `All ${formatBytes(text.length)}`
                : `Showing ${formatBytes(shown.length)} of ${formatBytes(text.length)}`}
            </span>
            <Button
              size="sm"
              variant="ghost"
              aria-expanded={expanded}
              onClick={() => setExpanded(!expanded)}
            >
              {expanded
                ? 'Collapse'
                : huge
                  ? `Show the first ${formatBytes(FULL_LIMIT)}`
                  : 'Show all'}
            </Button>
          </>
        ) : (
          <span>{formatBytes(text.length)}</span>
        )}
        <span className="toolbar-spacer" />
        <Button size="sm" variant="ghost" icon={<CopyIcon />} onClick={() => void copy()}>
          Copy
        </Button>
        <Button size="sm" variant="ghost" icon={<DownloadIcon />} onClick={download}>
          Download
        </Button>
      </div>
    </div>
  );
}
