'use client';

import { type RefObject, useEffect } from 'react';

/** "/" focuses the search box, as in most dashboards, unless the user is typing somewhere. */
export function useSlashFocus(target: RefObject<HTMLInputElement | null>): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const from = event.target as HTMLElement | null;
      if (event.key !== '/' || from?.closest('input, textarea, select, [contenteditable]')) return;
      event.preventDefault();
      target.current?.focus();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [target]);
}
