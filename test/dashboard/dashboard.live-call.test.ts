/**
 * A person at the dashboard, in a real browser: signs in with a key, starts a call to the simulated
 * restaurant (+15550100), watches its transcript arrive live, says a line as supervisor and sees it said,
 * ends the call and sees it end — at 1280 px and at 390 px wide. The simulated network runs on a virtual
 * clock that the test moves forward ("pumps") while it waits for the page, so nothing sleeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { VirtualClock } from '../../src/lib/clock.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';
import { ensureDashboardBuilt, launchBrowser, screenshot } from './browser.js';

const WAIT = 45_000;
const LINE = 'This is the supervisor: please hold the table until eight.';

/** Moves the virtual clock while `running`, so the call goes on while the page is watched. */
function pump(clock: VirtualClock) {
  let running = true;
  const timer = setInterval(() => running && clock.advance(200), 15);
  return {
    pause: () => void (running = false),
    resume: () => void (running = true),
    stop: () => clearInterval(timer),
  };
}

const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 860 },
  { name: 'phone', width: 390, height: 844 },
];

describe.each(VIEWPORTS)('dashboard at $width px: a live call', (viewport) => {
  let t: TestSwitchboard;
  let url: string;
  let browser: Browser;
  let page: Page;
  let clock: VirtualClock;
  let clockPump: ReturnType<typeof pump>;

  beforeAll(async () => {
    ensureDashboardBuilt();
    clock = new VirtualClock(undefined, Infinity);
    t = await startSwitchboard(BACKENDS[0], {}, { clock });
    url = await t.sb.listen();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: viewport.width, height: viewport.height } });
    page.setDefaultTimeout(WAIT);
    clockPump = pump(clock);
    clockPump.pause();
  });
  afterAll(async () => {
    clockPump?.stop();
    await browser?.close();
    await t?.close();
  });

  it('signs in, starts a call, watches the transcript, says a line, ends the call', async () => {
    // A wrong key is refused with a readable message, and nothing else is shown.
    await page.goto(`${url}/dashboard/`);
    await page.getByLabel('API key').fill('sb_not_a_key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);

    // By keyboard alone: the key, then Enter.
    await page.getByLabel('API key').fill(t.key);
    await page.getByLabel('API key').press('Enter');
    await page.getByRole('heading', { name: 'Live calls' }).waitFor();

    // The start form offers the simulated numbers; the restaurant is one of them.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Start a call' }).click();
    await page.getByRole('button', { name: /\+15550100/ }).click();
    expect(await page.getByLabel('Phone number', { exact: true }).inputValue()).toBe('+15550100');
    await page.getByLabel('Task', { exact: true }).fill('Confirm the booking for two on Friday at 8 pm for Alex Smith.');
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(viewport.width);
    await page.screenshot({ path: screenshot(`start-call-${viewport.name}`), fullPage: true });
    await page.getByRole('button', { name: 'Start the call' }).click();
    await page.getByRole('heading', { name: 'Call to +15550100' }).waitFor();
    const sid = decodeURIComponent(new URL(page.url()).hash.replace('#/calls/', ''));
    expect(sid).toBeTruthy();

    // Live: the callee's greeting and the agent's first words arrive while the clock moves.
    clockPump.resume();
    const transcript = page.getByTestId('transcript');
    await transcript.locator('li.callee').first().waitFor();
    await transcript.locator('li.agent').first().waitFor();
    clockPump.pause();
    // Nothing is wider than the screen (no sideways scrolling), at either width.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(viewport.width);

    // The supervisor's line: sent, then heard on the call, shown as the supervisor's, and in the events.
    await page.getByLabel('Say a line').fill(LINE);
    await page.getByLabel('Say a line').press('Enter');
    await page.getByRole('status').filter({ hasText: 'Line sent' }).waitFor();
    clockPump.resume();
    await transcript.locator('li.supervisor', { hasText: LINE }).waitFor();
    await page.getByTestId('events').getByText(/Supervisor line/).waitFor();
    clockPump.pause();
    // The README's picture of a live call (docs/images/dashboard-live-call.png is a copy of the desktop one).
    await page.screenshot({ path: screenshot(`live-call-${viewport.name}`), fullPage: true });
    clockPump.resume();

    // The end: the page says so, the controls go, the outcome shows.
    await page.getByRole('button', { name: 'End call' }).click();
    await page.getByText('The call has ended.').waitFor();
    await page.getByTestId('call-status').filter({ hasText: 'completed' }).waitFor();
    clockPump.pause();
    expect(await page.getByRole('button', { name: 'Say it' }).count()).toBe(0);
    await page.getByRole('heading', { name: 'Outcome' }).waitFor();
    await page.screenshot({ path: screenshot(`ended-call-${viewport.name}`), fullPage: true });

    // What the page showed is what the server stored: the line, by a person, counted as an override.
    const stored = await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers: { authorization: `Bearer ${t.key}` } });
    const body = stored.json();
    expect(body.transcripts.some((x: { role: string; text: string }) => x.role === 'supervisor' && x.text === LINE)).toBe(true);
    expect(body.status).toBe('completed');

    // Back on the list, the call is among the recent ones.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Live calls' }).click();
    await page.getByRole('link', { name: 'To +15550100' }).first().waitFor();
  });
});
