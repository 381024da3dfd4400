import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard } from '../../src/dashboard/app.js';
import { serveDashboard, type ServedDashboard } from '../../src/dashboard/serve.js';
import { HOSTILE_NAME, MEMBER_REGIONS, startDashboardFleet, type DashboardFleet } from '../support/dashboard-fleet.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const shots = join(root, 'artifacts/screenshots');
const profile = mkdtempSync(join(tmpdir(), 'sgsync-chromium-'));

let context: BrowserContext;
let readOnly: { f: DashboardFleet; served: ServedDashboard };
let withApply: { f: DashboardFleet; served: ServedDashboard };
/** Refreshing every second, for what a person watching the page sees change. */
let live: { f: DashboardFleet; served: ServedDashboard };
let evil: Server;
let evilUrl: string;

async function start(allowApply: boolean, seed: number, refreshSeconds?: number) {
  const f = await startDashboardFleet({ allowApply, seed, refreshSeconds });
  return { f, served: await serveDashboard(f.app, { host: '127.0.0.1', port: 0 }) };
}

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  [readOnly, withApply, live] = await Promise.all([start(false, 5), start(true, 6), start(false, 7, 1)]);
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 900 },
  });
  // Another site that knows the token (the worst case) and posts the form to the dashboard.
  evil = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<form id="f" method="post" action="${withApply.served.url}/reconcile"><input name="token" value="${withApply.f.token}"></form><script>document.getElementById('f').submit()</script>`);
  });
  await new Promise<void>((r) => evil.listen(0, 'localhost', r));
  evilUrl = `http://localhost:${(evil.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await context?.close();
  await new Promise((r) => evil?.close(r));
  await Promise.all([readOnly, withApply, live].filter(Boolean).map(async ({ f, served }) => {
    await served.close();
    await f.close();
  }));
  rmSync(profile, { recursive: true, force: true });
});

/** Runs the built CLI; asynchronously, since the sandbox it talks to lives in this process. */
function sgsync(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['dist/bin/sgsync.js', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.once('close', (code) => resolve({ code, stdout }));
  });
}

/** A fresh tab that records any dialog a page opens. */
async function tab(): Promise<{ page: Page; dialogs: string[] }> {
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return { page, dialogs };
}

const rowCount = (page: Page) => page.locator('#instances tbody tr').count();

/** Sets the sandbox's fault rules through its control API, as an operator would. */
async function setFaults(f: DashboardFleet, rules: unknown[]): Promise<void> {
  const res = await fetch(`${f.sb.url}/_sandbox/faults`, { method: 'PUT', body: JSON.stringify({ rules }) });
  expect(res.status).toBe(200);
}

describe('the dashboard in chromium', () => {
  it('shows on the Fleet page the same counts as `sgsync inventory --json`', async () => {
    const { f, served } = readOnly;
    const cli = await sgsync(['inventory', '--json', '-c', f.configFile]);
    expect(cli.code).toBe(0);
    const inventory = JSON.parse(cli.stdout) as { total: number; regions: { region: string; instances: number; running: number }[] };

    const { page } = await tab();
    await page.goto(served.url);
    expect(Number(await page.locator('[data-count="instances"] .n').textContent())).toBe(inventory.total);
    expect(await rowCount(page)).toBe(inventory.total);
    for (const r of inventory.regions) {
      const row = page.locator(`#regions tr[data-region="${r.region}"]`);
      expect(await row.locator('td').nth(1).textContent()).toBe(String(r.instances));
      expect(await row.locator('td').nth(2).textContent()).toBe(String(r.running));
    }
    await page.screenshot({ path: join(shots, 'fleet.png'), fullPage: true });
    await page.close();
  });

  it('filters by region, status and text, and keeps the filter in the address bar', async () => {
    const { f, served } = readOnly;
    const world = f.sb.sandbox.world;
    const { page } = await tab();
    await page.goto(served.url);
    const total = await rowCount(page);

    await page.selectOption('select[name=region]', 'sa-east-1');
    const inSa = world.region('sa-east-1')!.instances.size;
    await expect.poll(() => rowCount(page)).toBe(inSa);
    await expect.poll(() => page.url()).toContain('region=sa-east-1');
    expect(await page.locator('#shown').textContent()).toBe(`Showing 1–${inSa} of ${inSa} instances (filtered from ${total})`);

    // Each change sends a request, and htmx queues the next behind the one in flight: the
    // address bar names the filter whose answer was shown last, so wait for it before counting.
    await page.selectOption('select[name=region]', '');
    await page.selectOption('select[name=status]', 'blocked');
    await expect.poll(() => page.url()).toMatch(/\/\?status=blocked$/);
    await expect.poll(() => rowCount(page)).toBe(2);
    expect(await page.locator('#instances tbody tr[data-status="blocked"]').count()).toBe(2);

    await page.selectOption('select[name=status]', '');
    await page.fill('#q', 'api-euw1');
    await expect.poll(() => page.url()).toMatch(/\/\?q=api-euw1$/);
    await expect.poll(() => rowCount(page)).toBe(2);
    await page.close();
  });

  it('pages through the instances with Next, keeps the page across refreshes, and sorts what needs attention first', async () => {
    const { f } = readOnly;
    // The same fleet, four rows a page and refreshing every second: the demo fleet makes a few pages.
    const paged = await serveDashboard(createDashboard({ state: f.state, refreshSeconds: 1, pageSize: 4, activity: () => Promise.resolve([]), activitySource: 'none' }), { host: '127.0.0.1', port: 0 });
    try {
      const { page } = await tab();
      await page.goto(paged.url);
      const total = Number(await page.locator('[data-count="instances"] .n').textContent());
      expect(total).toBeGreaterThan(12);
      const shown = () => page.locator('#shown').textContent();
      const column = (attribute: string) => page.evaluate<string[]>(`[...document.querySelectorAll('#instances tbody tr')].map((r) => r.getAttribute('${attribute}'))`);
      const ids = () => column('data-instance');
      expect(await shown()).toBe(`Showing 1–4 of ${total} instances`);
      const first = await ids();

      await page.evaluate('window.__sameDocument = true');
      await page.locator('#pager-top-next').click();
      await expect.poll(() => page.url()).toBe(`${paged.url}/?page=2`);
      await expect.poll(shown).toBe(`Showing 5–8 of ${total} instances`);
      const second = await ids();
      expect(second).toHaveLength(4);
      expect(second.filter((id) => first.includes(id))).toEqual([]);
      // A refresh brings the same page again, not the first.
      await page.waitForResponse((r) => r.url().endsWith('/fragments/fleet?page=2'), { timeout: 15_000 });
      await page.waitForTimeout(300);
      expect(await ids()).toEqual(second);
      expect(await page.evaluate('window.__sameDocument')).toBe(true);

      // A new sort starts again at its first page, most urgent first.
      await page.selectOption('select[name=sort]', 'attention');
      await expect.poll(() => page.url()).toBe(`${paged.url}/?sort=attention`);
      await expect.poll(shown).toBe(`Showing 1–4 of ${total} instances, sorted by needs attention first`);
      const order = ['stale', 'blocked', 'refused', 'missing', 'admitted', 'idle', 'not-member'];
      const ranks = (await column('data-status')).map((status) => order.indexOf(status));
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
      expect(ranks[0]).toBeLessThanOrEqual(order.indexOf('missing'));
      await page.locator('#pager-bottom-next').click();
      await expect.poll(() => page.url()).toBe(`${paged.url}/?sort=attention&page=2`);
      await expect.poll(shown).toBe(`Showing 5–8 of ${total} instances, sorted by needs attention first`);

      // Last, then Back: the address bar's page, loaded again.
      await page.locator('#pager-top-last').click();
      const last = Math.ceil(total / 4);
      await expect.poll(() => page.url()).toBe(`${paged.url}/?sort=attention&page=${last}`);
      expect(await page.locator('#pager-top-next').count()).toBe(0);
      await page.goBack();
      await expect.poll(shown).toBe(`Showing 5–8 of ${total} instances, sorted by needs attention first`);
      expect(await page.locator('select[name=sort]').inputValue()).toBe('attention');
      await page.close();
    } finally {
      await paged.close();
    }
  });

  it('shows in the filter form, after Back and Forward, the filter of the address bar and the table', async () => {
    const { f, served } = readOnly;
    const { page } = await tab();
    await page.goto(served.url);
    const stopped = MEMBER_REGIONS.flatMap((r) => [...f.sb.sandbox.world.region(r)!.instances.values()]).filter((i) => i.state === 'stopped').length;
    const form = () => page.evaluate('["region", "state"].map((n) => document.querySelector(`select[name=${n}]`).value).join(" ")');

    await page.selectOption('select[name=state]', 'stopped');
    await expect.poll(() => page.url()).toMatch(/\/\?state=stopped$/);
    await page.selectOption('select[name=region]', 'eu-west-1');
    await expect.poll(() => page.url()).toMatch(/\/\?region=eu-west-1&state=stopped$/);

    await page.goBack();
    await expect.poll(() => page.url()).toMatch(/\/\?state=stopped$/);
    await expect.poll(form).toBe(' stopped');
    await expect.poll(() => rowCount(page)).toBe(stopped);
    await page.goBack();
    await expect.poll(() => page.url()).toBe(`${served.url}/`);
    await expect.poll(form).toBe(' ');
    await page.goForward();
    await expect.poll(() => page.url()).toMatch(/\/\?state=stopped$/);
    await expect.poll(form).toBe(' stopped');
    await page.close();
  });

  it('shows on the Targets page the numbers the sandbox holds', async () => {
    const { f, served } = withApply;
    const { page } = await tab();
    await page.goto(`${served.url}/drift`);
    await page.getByRole('button', { name: 'Reconcile now' }).click();
    await page.waitForURL(/\/activity$/);
    await page.screenshot({ path: join(shots, 'activity.png'), fullPage: true });

    await page.goto(`${served.url}/targets`);
    const region = f.sb.sandbox.world.region('us-east-1')!;
    for (const groupId of [...f.pool, ...f.config.targets[1]!.groupIds]) {
      const group = region.groups.get(groupId)!;
      const used = [...group.ruleIds].map((id) => region.rules.get(id)!).filter((r) => !r.isEgress && r.cidrIpv4).length;
      const quota = group.quota ?? region.quota;
      const gauge = page.locator(`.gauge[data-group="${groupId}"][data-family="ipv4"]`);
      expect(await gauge.locator('.nums strong').textContent()).toBe(`${used} / ${quota}`);
      expect(Number(await gauge.locator('meter').getAttribute('value'))).toBe(used);
    }
    await page.screenshot({ path: join(shots, 'targets.png'), fullPage: true });
    await page.close();
  });

  it('shows a Name tag with markup and script as text, and runs nothing', async () => {
    const { f, served } = readOnly;
    const { page, dialogs } = await tab();
    await page.goto(`${served.url}/?q=pwned`);
    // Wait for a live refresh to land too: swapped-in fragments must be as inert as the page.
    await page.waitForResponse((r) => r.url().includes('/fragments/fleet'), { timeout: 15_000 });
    await page.waitForTimeout(200);
    expect(await page.locator(`tr[data-instance="${f.hostileId}"] td`).nth(2).textContent()).toBe(HOSTILE_NAME);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('main img, main b').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it('has no "Reconcile now" without --allow-apply, and the endpoint does not exist', async () => {
    const { served } = readOnly;
    const { page } = await tab();
    await page.goto(`${served.url}/drift`);
    expect(await page.getByRole('button', { name: 'Reconcile now' }).count()).toBe(0);
    const res = await page.request.post(`${served.url}/reconcile`, { form: { token: 'anything' } });
    expect(res.status()).toBe(404);
    await page.screenshot({ path: join(shots, 'drift.png'), fullPage: true });
    await page.close();
  });

  it('refuses a reconcile POST without the right token, or from another site', async () => {
    const { served } = withApply;
    const { page } = await tab();
    await page.goto(`${served.url}/drift`);
    const status = await page.evaluate(async (url) => (await fetch(`${url}/reconcile`, { method: 'POST', body: new URLSearchParams({ token: 'guess' }) })).status, served.url);
    expect(status).toBe(403);

    const forged = page.waitForResponse((r) => r.url() === `${served.url}/reconcile`);
    await page.goto(evilUrl);
    expect((await forged).status()).toBe(403);
    await page.close();
  });

  it('shows, without a reload, when the fleet was read and that the last read failed', async () => {
    const { f, served } = live;
    const { page } = await tab();
    await page.goto(`${served.url}/targets`);
    // Gone if the browser loaded the page again.
    await page.evaluate('window.__sameDocument = true');
    const header = () => page.locator('header.top .meta').textContent();
    // When the data was read; the header also says how long ago, which grows at every refresh.
    const readAt = async () => (await header())?.replace(/ \(\d+ s ago\)$/, '');
    const banner = page.locator('main [role=alert]', { hasText: 'The last refresh failed' });
    const first = await readAt();
    expect(first).toMatch(/read \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(await header()).toMatch(/read \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(\d+ s ago\)$/);
    await expect.poll(readAt, { timeout: 15_000 }).not.toBe(first);

    // Reading the groups' rules fails: the whole read fails, and the page keeps the last good view.
    await setFaults(f, [{ action: 'DescribeSecurityGroupRules', error: { code: 'UnauthorizedOperation' } }]);
    try {
      await expect.poll(() => banner.count(), { timeout: 15_000 }).toBe(1);
      expect(await banner.textContent()).toMatch(/UnauthorizedOperation|not authorized/i);
      const during = await readAt();
      await page.waitForTimeout(2500);
      expect(await readAt()).toBe(during);
    } finally {
      await setFaults(f, []);
    }
    await expect.poll(() => banner.count(), { timeout: 15_000 }).toBe(0);
    await expect.poll(readAt, { timeout: 15_000 }).not.toBe(first);
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    await page.close();
  });

  it('keeps keyboard focus where it was when a section refreshes', async () => {
    const { page } = await tab();
    const focused = () => page.evaluate('document.activeElement === document.body ? "<body>" : (document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.textContent)');
    /** Focuses an element of a live section, waits for two refreshes of it to land, and says what has focus then. */
    const afterRefreshes = async (url: string, fragment: string, focus: () => Promise<void>) => {
      await page.goto(url);
      await focus();
      for (let i = 0; i < 2; i++) {
        await page.waitForResponse((r) => r.url().includes(fragment), { timeout: 15_000 });
        await page.waitForTimeout(300);
      }
      return focused();
    };

    // The instances table scrolls sideways from the keyboard once it has focus.
    expect(await afterRefreshes(live.served.url, '/fragments/fleet', () => page.getByRole('region', { name: 'Instances table' }).focus())).toBe('Instances table');
    expect(await afterRefreshes(`${withApply.served.url}/drift`, '/fragments/drift', () => page.getByRole('button', { name: 'Reconcile now' }).focus())).toBe('Reconcile now');
    await page.close();
  });

  it('works from the keyboard and on a phone-sized screen', async () => {
    const { served } = readOnly;
    const page = await context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${served.url}/targets`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Fleet');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${served.url}/`);
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(shots, 'fleet-phone.png') });
    await page.close();
  });
});
