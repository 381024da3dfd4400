/**
 * The frame around every page: navigation, live-refresh wiring and the
 * pieces pages share (status badges, times). Every value is passed to JSX as
 * text, which hono/jsx escapes; nothing here builds HTML from strings.
 */
import type { Child, FC } from 'hono/jsx';
import { HTMX, STYLESHEET } from './static-assets.js';

export const PAGES = [
  { path: '/', name: 'Fleet' },
  { path: '/targets', name: 'Targets' },
  { path: '/drift', name: 'Drift' },
  { path: '/activity', name: 'Activity' },
] as const;

export type PageName = (typeof PAGES)[number]['name'];

export interface LayoutProps {
  title: string;
  active: PageName;
  /** When the data shown was read, as ISO text. */
  at?: string;
  /** How long ago that read began, in ms, as the server saw it when it answered. */
  age?: number;
  deployment?: string;
  /** Why the data shown may be old or missing, for the banner under the title. */
  problem?: string;
  children?: Child;
}

/**
 * The header's "read …" line. A refreshed section sends it again out of band
 * (`oob`), so a page left open shows when the data in front of it was read,
 * not when the page was first opened.
 */
export const ReadAt: FC<{ deployment?: string; at?: string; age?: number; oob?: boolean }> = ({ deployment, at, age, oob }) => (
  <span class="meta" id="read-at" hx-swap-oob={oob ? 'true' : undefined}>
    {deployment ? `deployment ${deployment}` : ''}
    {at ? ` · read ${shortTime(at)}` : ''}
    {at && age !== undefined ? ` (${ago(age)})` : ''}
  </span>
);

/**
 * "12 s ago", "3 min ago", "2 h ago": how old the data is, since a page
 * refreshed in the background may show a read a whole interval old.
 *
 * @example ago(12_400) // '12 s ago'
 */
export function ago(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

/**
 * The banner saying the data shown is old (the last read failed) or missing;
 * empty when all is well. Sent out of band with every refreshed section, so it
 * appears and goes away without a reload.
 */
export const Freshness: FC<{ problem?: string; oob?: boolean }> = ({ problem, oob }) => (
  <div id="freshness" hx-swap-oob={oob ? 'true' : undefined}>
    {problem ? <p class="banner" role="alert">{problem}</p> : ''}
  </div>
);

/**
 * htmx as the pages use it. No history snapshots: a snapshot keeps the table
 * as it was swapped in but the filter form as first rendered (a <select>'s
 * choice is not in its markup), so Back showed a filtered table under a form
 * saying "all", and data as old as the snapshot. Back and Forward load the
 * page again instead, which the server renders whole, form included.
 */
const HTMX_CONFIG = JSON.stringify({ includeIndicatorStyles: false, allowEval: false, selfRequestsOnly: true, historyCacheSize: 0, refreshOnHistoryMiss: true });

export const Layout: FC<LayoutProps> = ({ title, active, at, age, deployment, problem, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="htmx-config" content={HTMX_CONFIG} />
      <title>{`${title} · sgsync`}</title>
      <link rel="stylesheet" href={STYLESHEET.path} />
      <script src={HTMX.path} defer></script>
    </head>
    <body>
      <a class="skip" href="#content">Skip to content</a>
      <header class="top">
        <span class="brand">sgsync</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li>
                <a href={p.path} aria-current={p.name === active ? 'page' : undefined}>
                  {p.name}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <ReadAt deployment={deployment} at={at} age={age} />
      </header>
      <main id="content">
        <h1>{title}</h1>
        <Freshness problem={problem} />
        {children}
      </main>
    </body>
  </html>
);

/**
 * A box a wide table scrolls sideways in, focusable so the keyboard can scroll
 * it. Its id must be the same in every refresh: htmx gives focus back to the
 * element of the same id after a swap, and without one focus falls to <body>.
 */
export const ScrollBox: FC<{ id: string; label: string; class?: string; children?: Child }> = ({ id, label, class: extra, children }) => (
  <div class={extra ? `scroll ${extra}` : 'scroll'} id={id} tabindex={0} role="region" aria-label={label}>
    {children}
  </div>
);

/** A status word in a coloured pill; the word itself carries the meaning, the colour only repeats it. */
export const Badge: FC<{ status: string; title?: string; label?: string }> = ({ status, title, label }) => (
  <span class={`badge s-${status.replace(/[^a-z-]/g, '')}`} title={title}>
    {label ?? status}
  </span>
);

/** `2026-01-02 03:04:05Z` from ISO text; other text as it is. */
export function shortTime(iso: string | undefined): string {
  if (!iso) return '';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]}Z` : iso;
}

/** Attributes that make a section re-fetch itself every few seconds (htmx). */
export function poll(url: string, seconds: number): Record<string, string> {
  return seconds > 0 ? { 'hx-get': url, 'hx-trigger': `every ${seconds}s`, 'hx-swap': 'outerHTML' } : {};
}
