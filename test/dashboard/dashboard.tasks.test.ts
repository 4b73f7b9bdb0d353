/**
 * Agents and tasks in the dashboard, in a real browser at 390 px: a task is made for an agent and run now;
 * its call opens, plays out on the simulated network and ends with its summary shown — the same summary the
 * server stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';
import { ensureDashboardBuilt, launchBrowser, screenshot } from './browser.js';

const WAIT = 45_000;

describe('dashboard: a task run from the dashboard', () => {
  let t: TestSwitchboard;
  let url: string;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    ensureDashboardBuilt();
    t = await startSwitchboard(BACKENDS[0], { HOST: '127.0.0.1', SHUTDOWN_GRACE_SECONDS: '1' });
    url = await t.sb.listen();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    page.setDefaultTimeout(WAIT);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('makes an agent and a task, runs it, and shows the finished call with its summary', async () => {
    await page.goto(`${url}/dashboard/#/agents`);
    await page.getByLabel('API key').fill(t.key);
    await page.getByLabel('API key').press('Enter');
    await page.getByRole('heading', { name: 'Agents' }).waitFor();
    await page.getByLabel('Name').fill('Bookings');
    await page.getByLabel('System prompt').fill('You confirm restaurant bookings for Alex Smith.');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.getByRole('status').filter({ hasText: 'Agent created' }).waitFor();

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tasks' }).click();
    await page.getByRole('heading', { name: 'Tasks' }).waitFor();
    await page.getByLabel('Agent').selectOption({ label: 'Bookings' });
    await page.getByLabel('Name').fill('Confirm Friday');
    await page.getByLabel('Number to call').fill('+15550100');
    await page.getByLabel('Description').fill('Confirm the booking for two on Friday at 8 pm for Alex Smith.');
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.getByRole('button', { name: 'Run task Confirm Friday now' }).click();

    await page.getByRole('heading', { name: 'Call to +15550100' }).waitFor();
    await page.getByText('The call has ended.').waitFor();
    const summary = page.getByTestId('summary');
    await summary.waitFor();
    await page.screenshot({ path: screenshot('task-call-phone'), fullPage: true });
    const callId = decodeURIComponent(new URL(page.url()).hash.replace('#/calls/', ''));
    const stored = (await t.sb.app.inject({ method: 'GET', url: `/api/v1/calls/${callId}`, headers: { authorization: `Bearer ${t.key}` } })).json().data;
    expect(stored.report.summary).toBeTruthy();
    expect((await summary.textContent())?.trim()).toBe(stored.report.summary);
    expect(await page.getByTestId('transcript').locator('li').count()).toBe(stored.transcript.length);
  });
});
