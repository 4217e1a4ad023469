'use client';

import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { type ReactNode, useEffect } from 'react';
import { api } from '@/lib/api-client';
import { ConnectionBanner, useStale } from './connection-banner';
import { LiveIndicator } from './live-events';
import { MemoryModeBanner } from './memory-mode-banner';
import { Button } from './ui/button';
import {
  BrandMark,
  ClockIcon,
  DashboardIcon,
  LogoutIcon,
  LogsIcon,
  PlugIcon,
  PlusIcon,
  ServerIcon,
  SettingsIcon,
  TasksIcon,
} from './ui/icons';

const NAV = [
  { href: '/', label: 'Dashboard', icon: DashboardIcon, key: 'd' },
  { href: '/tasks', label: 'Tasks', icon: TasksIcon, key: 't' },
  { href: '/tasks/new', label: 'New task', icon: PlusIcon, key: 'n' },
  { href: '/schedules', label: 'Schedules', icon: ClockIcon, key: 'c' },
  { href: '/workflows', label: 'Workflows', icon: PlugIcon, key: 'w' },
  { href: '/services', label: 'Services', icon: ServerIcon, key: 's' },
  { href: '/logs', label: 'Logs', icon: LogsIcon, key: 'l' },
  { href: '/settings', label: 'Settings', icon: SettingsIcon, key: 'e' },
] as const;

function isCurrent(pathname: string, href: string): boolean {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (href === '/') return path === '/';
  if (href === '/tasks') return path === '/tasks' || path === '/tasks/detail';
  return path === href;
}

const typing = (target: EventTarget | null) =>
  target instanceof HTMLElement &&
  (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

/** `g` then a letter goes to a page (g d, g t, g c, g w, g s, g l, g e); `n` opens the new-task form. */
function useNavigationKeys() {
  const router = useRouter();
  useEffect(() => {
    let pendingG = 0;
    const onKey = (event: KeyboardEvent) => {
      if (event.metaKey || event.ctrlKey || event.altKey || typing(event.target)) return;
      const key = event.key.toLowerCase();
      if (key === 'g') {
        pendingG = Date.now();
        return;
      }
      if (Date.now() - pendingG < 1000) {
        const item = NAV.find((n) => n.key === key);
        pendingG = 0;
        if (item) {
          event.preventDefault();
          router.push(item.href);
        }
        return;
      }
      if (key === 'n') {
        event.preventDefault();
        router.push('/tasks/new');
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [router]);
}

export function AppShell({ children }: { children: ReactNode }) {
  const pathname = usePathname();
  const stale = useStale();
  useNavigationKeys();

  const signOut = async () => {
    await api.signOut().catch(() => {});
    window.location.assign('/');
  };

  return (
    <div className="shell">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <aside className="sidebar" aria-label="Taskdock">
        <Link href="/" className="brand">
          <BrandMark className="brand-mark" />
          Taskdock
        </Link>
        <nav className="nav" aria-label="Main">
          {NAV.map(({ href, label, icon: Icon, key }) => (
            <Link
              key={href}
              href={href}
              className="nav-link"
              aria-current={isCurrent(pathname, href) ? 'page' : undefined}
              aria-keyshortcuts={key === 'n' ? 'n' : `g ${key}`}
            >
              <Icon />
              {label}
              <kbd className="nav-kbd">{key === 'n' ? 'N' : `G ${key.toUpperCase()}`}</kbd>
            </Link>
          ))}
        </nav>
        <div className="sidebar-footer">
          <LiveIndicator />
          <Button variant="ghost" size="sm" icon={<LogoutIcon />} onClick={() => void signOut()}>
            Sign out
          </Button>
        </div>
      </aside>
      <main className="main" id="main" tabIndex={-1} data-stale={stale || undefined}>
        <ConnectionBanner />
        <MemoryModeBanner />
        {children}
      </main>
    </div>
  );
}
