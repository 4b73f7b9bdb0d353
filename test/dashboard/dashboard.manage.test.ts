/**
 * Managing the organisation from the dashboard, in a real browser, under a session: the sign-in sets the
 * HttpOnly session cookie (the key is not kept by the page); API keys are created (shown once), regenerated
 * and revoked; a person is invited and accepts through the link, which signs them in; an agent is made and
 * a number added and assigned to it, then unassigned. Checked against what the server then holds.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';
import { ensureDashboardBuilt, launchBrowser, screenshot } from './browser.js';

const WAIT = 45_000;

describe('dashboard: organisation management under a session', () => {
  let t: TestSwitchboard;
  let url: string;
  let browser: Browser;
  let page: Page;
  const nav = () => page.getByRole('navigation', { name: 'Main' });
  /**
   * Opens a page from the menu and waits for its heading: the page before may have a field of the same label
   * (the API keys page has a Name too), which a fill racing the route change would fill instead.
   */
  const open = async (title: string) => {
    await nav().getByRole('link', { name: title }).click();
    await page.getByRole('heading', { level: 1, name: title, exact: true }).waitFor();
  };

  beforeAll(async () => {
    ensureDashboardBuilt();
    t = await startSwitchboard(BACKENDS[0], { HOST: '127.0.0.1' });
    url = await t.sb.listen();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(WAIT);
    // Revoking asks for confirmation (window.confirm): the person says yes.
    page.on('dialog', (d) => {
      d.accept().catch(() => undefined);
    });
  });
  // Sessions and the management routes (issue 12 §4, contract-dashboard.md) are another helper's part; until
  // they are merged these tests say so by skipping.
  beforeEach((ctx) => {
    if (!t.sb.app.hasRoute({ method: 'POST', url: '/auth/session' })) ctx.skip('session routes are not in this build');
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('signs in with a session cookie the page cannot read, and keeps it across a reload', async () => {
    await page.goto(`${url}/dashboard/`);
    await page.getByLabel('API key').fill(t.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Live calls' }).waitFor();
    const cookie = (await page.context().cookies()).find((c) => c.name === 'sb_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate('document.cookie')).not.toContain('sb_session');
    expect(await page.evaluate('JSON.stringify(localStorage) + JSON.stringify(sessionStorage)')).not.toContain(t.key);
    await page.reload();
    await page.getByRole('heading', { name: 'Live calls' }).waitFor();
  });

  it('creates an API key (shown once), regenerates it, and revokes it', async () => {
    await open('API keys');
    await page.getByLabel('Key name').fill('CRM integration');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = page.locator('code.secret');
    await secret.waitFor();
    const first = (await secret.textContent())!.trim();
    // The key shown works as a key.
    expect((await fetch(`${url}/v1/webhook/deliveries`, { headers: { authorization: `Bearer ${first}` } })).status).toBe(200);

    await page.getByRole('button', { name: 'Regenerate key CRM integration' }).click();
    await page.locator('code.secret', { hasNotText: first }).waitFor();
    const second = (await secret.textContent())!.trim();
    expect(second).not.toBe(first);
    expect((await fetch(`${url}/v1/webhook/deliveries`, { headers: { authorization: `Bearer ${first}` } })).status).toBe(401);
    expect((await fetch(`${url}/v1/webhook/deliveries`, { headers: { authorization: `Bearer ${second}` } })).status).toBe(200);

    await page.getByRole('button', { name: 'Revoke key CRM integration' }).last().click();
    await page.getByRole('status').filter({ hasText: 'revoked' }).waitFor();
    expect((await fetch(`${url}/v1/webhook/deliveries`, { headers: { authorization: `Bearer ${second}` } })).status).toBe(401);
  });

  it('makes an agent, adds a number assigned to it, then unassigns it', async () => {
    await open('Agents');
    await page.getByLabel('Name').fill('Front desk');
    await page.getByLabel('System prompt').fill('You answer calls for Bella Cucina.');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.getByRole('cell', { name: 'Front desk', exact: true }).waitFor();

    await open('Phone numbers');
    await page.getByLabel('Number', { exact: true }).fill('+15550170');
    await page.getByLabel('Agent', { exact: true }).selectOption({ label: 'Front desk' });
    await page.getByRole('button', { name: 'Add number' }).click();
    const assigned = page.getByLabel('Agent for +15550170');
    await assigned.waitFor();
    // The organisation's numbers also hold its simulated outbound number: the added one is found by its number.
    const held = async () =>
      ((await (await fetch(`${url}/api/v1/phone-numbers`, { headers: { authorization: `Bearer ${t.key}` } })).json()) as any).data.find((n: any) => n.number === '+15550170');
    const agentId = (await held()).agent_id;
    expect(agentId).toBeTruthy();
    expect(await assigned.inputValue()).toBe(agentId);

    await assigned.selectOption('');
    await page.getByRole('status').filter({ hasText: 'Number unassigned' }).waitFor();
    expect((await held()).agent_id).toBeNull();
  });

  it('invites a person, who accepts through the link and is signed in as themselves', async () => {
    await open('Organisation');
    await page.getByLabel('Email').fill('sam@example.com');
    await page.getByLabel('Role').selectOption('member');
    await page.getByRole('button', { name: 'Invite' }).click();
    const link = (await page.locator('code.secret').textContent())!.trim();
    expect(link).toContain('/dashboard/#/invitations/');
    await page.screenshot({ path: screenshot('organisation-desktop'), fullPage: true });

    // The invited person, in a browser of their own.
    const theirs = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    theirs.setDefaultTimeout(WAIT);
    await theirs.goto(`${url}/dashboard/#/invitations/${link.split('#/invitations/')[1]}`);
    await theirs.getByLabel('Your name').fill('Sam Lee');
    await theirs.getByRole('button', { name: 'Accept' }).click();
    const key = (await theirs.locator('code.secret').textContent())!.trim();
    expect((await fetch(`${url}/v1/webhook/deliveries`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    await theirs.getByRole('button', { name: 'Continue to the dashboard' }).click();
    await theirs.getByText(/Sam Lee/).first().waitFor();
    await theirs.close();

    await page.reload();
    await page.getByRole('cell', { name: 'sam@example.com', exact: true }).waitFor();
  });
});
