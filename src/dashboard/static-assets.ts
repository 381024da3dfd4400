/**
 * The files a page loads besides itself: htmx and the stylesheet. Each is
 * served at a path that holds a hash of its content, so a browser may keep
 * it for good: a new version of sgsync serves new content at a new path, and
 * no page ever asks for the old one again. Without this every page load
 * fetched htmx again (17 kB compressed).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { STYLES } from './styles.js';

export interface StaticAsset {
  path: string;
  body: string;
  contentType: string;
}

/** How long a browser may keep an asset: a year, the longest HTTP caches honour, and never asking again meanwhile. */
export const ASSET_CACHE_CONTROL = 'max-age=31536000, immutable';

function asset(name: string, extension: string, body: string, contentType: string): StaticAsset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { path: `/static/${name}.${hash}.${extension}`, body, contentType };
}

const HTMX_SOURCE = readFileSync(createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js'), 'utf8');

export const HTMX = asset('htmx.min', 'js', HTMX_SOURCE, 'text/javascript; charset=utf-8');
export const STYLESHEET = asset('app', 'css', STYLES, 'text/css; charset=utf-8');
export const STATIC_ASSETS: readonly StaticAsset[] = [HTMX, STYLESHEET];
