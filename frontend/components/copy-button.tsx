'use client';

import { Button } from './ui/button';
import { CopyIcon } from './ui/icons';
import { useToast } from './ui/toast';

/** Copies `text` to the clipboard and says so (or that the browser refused). */
export function CopyButton({ text, what, label }: { text: string; what: string; label: string }) {
  const toast = useToast();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      toast(`${what} copied to the clipboard`, 'success');
    } catch {
      toast('The browser refused access to the clipboard', 'error');
    }
  };
  return (
    <Button size="sm" variant="ghost" icon={<CopyIcon />} onClick={() => void copy()}>
      {label}
    </Button>
  );
}
