/**
 * Webhook deliveries in the dashboard, in a real browser: a call's `call_completed` that gave up (the
 * receiver answered 503 three times) shows as a dead letter with its attempts; *Redeliver* sends it again,
 * and the receiver gets it. The call was recorded, and its page plays the recording.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver.js';
import { ensureDashboardBuilt, launchBrowser, screenshot } from './browser.js';

const WAIT = 45_000;

describe('dashboard: webhook deliveries', () => {
  let t: TestSwitchboard;
  let rx: WebhookReceiver;
  let url: string;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    ensureDashboardBuilt();
    rx = await startWebhookReceiver();
    t = await startSwitchboard(BACKENDS[0], { HOST: '127.0.0.1', SHUTDOWN_GRACE_SECONDS: '1' });
    url = await t.sb.listen();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(WAIT);
  });
  // Shutting down waits for the recording job the call started (CPU-heavy on a loaded machine).
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await rx?.close();
  }, 180_000);

  it('shows the attempts of a delivery that gave up, and redelivers it', async () => {
    rx.script([503, 503, 503]);
    const headers = { authorization: `Bearer ${t.key}` };
    const start = await t.sb.app.inject({
      method: 'POST',
      url: '/v1/start-call',
      headers,
      payload: { phone_number: '+15550100', task: 'Confirm my booking, reference AB123', language: 'en', webhook: rx.url, record: true },
    });
    const sid = start.json().sid;
    const list = async () => (await t.sb.app.inject({ method: 'GET', url: `/v1/webhook/deliveries?call_id=${sid}`, headers })).json().deliveries as any[];
    await until(async () => (await list()).find((d) => d.dead_letter), 40_000, 'the dead letter');

    await page.goto(`${url}/dashboard/#/webhooks`);
    await page.getByLabel('API key').fill(t.key);
    await page.getByLabel('API key').press('Enter');
    await page.getByRole('heading', { name: 'Webhook deliveries' }).waitFor();
    await page.getByRole('cell', { name: /gave up/ }).waitFor();
    expect(await page.getByRole('cell', { name: /HTTP 503/ }).count()).toBeGreaterThanOrEqual(3);
    await page.screenshot({ path: screenshot('webhooks-desktop'), fullPage: true });

    await page.getByRole('button', { name: `Redeliver call_completed to ${rx.url}` }).click();
    await page.getByRole('status').filter({ hasText: 'Queued for delivery' }).waitFor();
    const again = await until(async () => rx.received[3], 40_000, 'the redelivery');
    expect(again.json.event).toBe('call_completed');
    // The page, refreshing itself, shows the delivery that went through.
    await page.getByRole('cell', { name: 'HTTP 200' }).waitFor();

    // The call was recorded: its page has a player whose signed URL serves the audio.
    await page.goto(`${url}/dashboard/#/calls/${sid}`);
    const player = page.getByLabel('Call recording');
    await player.waitFor({ state: 'attached' });
    const src = await player.getAttribute('src');
    // The URL is built from PUBLIC_URL, which a test on port 0 cannot know: its path and token are what count.
    const signed = new URL(src!, url);
    const audio = await fetch(url + signed.pathname + signed.search);
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toMatch(/^audio\//);
  });
});
