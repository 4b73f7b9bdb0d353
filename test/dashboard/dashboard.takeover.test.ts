/**
 * Taking over a user-on-call session from the dashboard, in a real browser (issue 12 §1 and §5): the call is
 * started with the user on it; the page shows the room connect (user and target, the AI waiting); the person
 * activates the AI, which then talks to the target while the user's leg is dropped; the call is ended. At 1280
 * and 390 px. The simulated network runs on a virtual clock the test moves while it waits for the page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { VirtualClock } from '../../src/lib/clock.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';
import { ensureDashboardBuilt, launchBrowser, screenshot } from './browser.js';

const WAIT = 45_000;
const TARGET = '+15550100'; // Bella Cucina
const USER = '+15550160'; // a person's phone on the simulated network: the user who joins first

function pump(clock: VirtualClock) {
  let running = true;
  const timer = setInterval(() => running && clock.advance(200), 15);
  return { pause: () => void (running = false), resume: () => void (running = true), stop: () => clearInterval(timer) };
}

describe.each([
  { name: 'desktop', width: 1280, height: 860 },
  { name: 'phone', width: 390, height: 844 },
])('dashboard at $width px: taking over a user-on-call session', (viewport) => {
  let t: TestSwitchboard;
  let browser: Browser;
  let page: Page;
  let clockPump: ReturnType<typeof pump>;

  beforeAll(async () => {
    ensureDashboardBuilt();
    const clock = new VirtualClock(undefined, Infinity);
    t = await startSwitchboard(BACKENDS[0], { HOST: '127.0.0.1', SHUTDOWN_GRACE_SECONDS: '1' }, { clock });
    const url = await t.sb.listen();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: viewport.width, height: viewport.height } });
    page.setDefaultTimeout(WAIT);
    clockPump = pump(clock);
    clockPump.pause();
    await page.goto(`${url}/dashboard/`);
  });
  afterAll(async () => {
    clockPump?.stop();
    await browser?.close();
    await t?.close();
  });

  it('starts the call with the user on it, sees the room connect, speaks as the user, activates the AI, and ends the call', async (ctx) => {
    // User-on-call (issue 12 §1) is another helper's part; until it is merged this test says so by skipping.
    if (!t.sb.app.hasRoute({ method: 'POST', url: '/v1/calls/:callSid/activate' })) ctx.skip('user-on-call routes are not in this build');
    await page.getByLabel('API key').fill(t.key);
    await page.getByLabel('API key').press('Enter');
    await page.getByRole('heading', { name: 'Live calls' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Start a call' }).click();
    await page.getByLabel('Phone number', { exact: true }).fill(TARGET);
    await page.getByLabel('Task', { exact: true }).fill('Confirm the booking for Alex Smith, reference AB123, on Tuesday at seven.');
    await page.getByLabel(/I join the call first/).check();
    await page.getByLabel('My phone', { exact: true }).fill(USER);
    await page.getByRole('button', { name: 'Start the call' }).click();
    await page.getByRole('heading', { name: `Call to ${TARGET}` }).waitFor();
    const sid = decodeURIComponent(new URL(page.url()).hash.replace('#/calls/', ''));

    // The room connects: the user and the target talk, the AI waits and says nothing.
    const room = page.getByTestId('conference');
    clockPump.resume();
    await room.filter({ hasText: 'connected' }).waitFor();
    clockPump.pause();
    await room.filter({ hasText: 'the AI is waiting' }).waitFor();
    expect(await page.getByTestId('transcript').locator('li.agent').count()).toBe(0);
    await page.getByRole('button', { name: 'Drop the user' }).waitFor();

    // The person at the dashboard speaks as the user: the line is the user's in the transcript.
    await page.getByLabel('Speak as the user').fill('Hi, I am calling about the booking for Alex Smith.');
    await page.getByRole('button', { name: 'Say as the user' }).click();
    await page.getByRole('status').filter({ hasText: 'Said as the user' }).waitFor();
    clockPump.resume();
    await page.getByTestId('transcript').locator('li.operator').filter({ hasText: 'calling about the booking for Alex Smith' }).waitFor();
    clockPump.pause();
    expect(await page.getByTestId('transcript').locator('li.operator .speaker').first().textContent()).toBe('User');

    // Take over: the AI is activated and the user's leg dropped.
    await page.getByRole('button', { name: 'Activate the AI' }).click();
    await page.getByRole('status').filter({ hasText: 'The AI has taken over' }).waitFor();
    clockPump.resume();
    await room.filter({ hasText: 'the AI is active' }).waitFor();
    // The user's leg was dropped with the takeover: there is no one left to drop.
    await page.getByRole('button', { name: 'Drop the user' }).waitFor({ state: 'detached' });
    await page.getByTestId('transcript').locator('li.agent').first().waitFor();
    clockPump.pause();
    await page.screenshot({ path: screenshot(`takeover-${viewport.name}`), fullPage: true });
    const status = await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}/conference-status`, headers: { authorization: `Bearer ${t.key}` } });
    expect(status.json()).toMatchObject({ state: 'active', ai_active: true });

    clockPump.resume();
    await page.getByRole('button', { name: 'End call' }).click();
    await page.getByText('The call has ended.').waitFor();
    clockPump.pause();
    // A dozen browser steps, each waited for on its own: the whole may take long on a busy machine.
  }, 120_000);
});
