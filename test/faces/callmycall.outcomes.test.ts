import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';

for (const backend of BACKENDS) {
  describe(`call outcomes on the simulated network [${backend.name}]`, () => {
    let t: TestSwitchboard;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1' });
    });
    afterAll(() => t.close());

    async function callAndWait(body: Record<string, unknown>) {
      const headers = { authorization: `Bearer ${t.key}` };
      const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: body });
      expect(r.statusCode, r.body).toBe(200);
      return until(async () => {
        const c = (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${r.json().sid}`, headers })).json();
        return c.ended_at ? c : null;
      }, 25_000, `call to ${body.phone_number} to end`);
    }

    it('+15550102 ends busy', async () => {
      const c = await callAndWait({ phone_number: '+15550102', task: 'Confirm my booking', language: 'en' });
      expect(c.status).toBe('busy');
      expect(c.duration).toBe(0);
      expect(c.answered_by).toBeNull();
    });

    it('+15550103 ends no-answer', async () => {
      const c = await callAndWait({ phone_number: '+15550103', task: 'Confirm my booking', language: 'en' });
      expect(c.status).toBe('no-answer');
    });

    it('+15550104 is answered by voicemail: completed, answered_by machine, outcome voicemail, a message left', async () => {
      const c = await callAndWait({ phone_number: '+15550104', task: 'Tell Maria that the plumber comes on Friday at 9', language: 'en' });
      expect(c.status).toBe('completed');
      expect(c.answered_by).toBe('machine');
      expect(c.outcome).toBe('voicemail');
      expect(c.transcripts.some((s: any) => s.role === 'assistant' && /friday/i.test(s.text))).toBe(true);
    });

    it('+15550101 reaches a human through the clinic menu by keypad', async () => {
      const c = await callAndWait({ phone_number: '+15550101', task: 'Book an appointment with a doctor for next week', language: 'en', persona: { name: 'Alex Smith' } });
      expect(c.status).toBe('completed');
      const presses = await t.sb.store.db
        .selectFrom('call_events')
        .select(['data'])
        .where('call_id', '=', c.id)
        .where('kind', '=', 'command')
        .execute();
      const digits = presses.map((p) => (typeof p.data === 'string' ? JSON.parse(p.data) : p.data)).filter((d: any) => d.command === 'press');
      expect(digits.length).toBeGreaterThan(0);
      // After the menu and the queue, a person spoke and the goal was reached.
      expect(c.summary.goal_completed).toBe(true);
    });

    it('the Swedish receptionist is spoken to in Swedish', async () => {
      const c = await callAndWait({ phone_number: '+46701740605', task: 'Bekräfta min bokning på tisdag klockan 14, bokningsnummer KB123', language: 'Svenska', persona: { name: 'Anna Berg' } });
      expect(c.status).toBe('completed');
      const agent = c.transcripts.filter((s: any) => s.role === 'assistant').map((s: any) => s.text).join(' ');
      expect(agent).toMatch(/hej|tack|bokning/i);
      expect(c.summary.goal_completed).toBe(true);
    });
  });
}
