/** Personal numbers, keys and what was said never reach a log line. */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';

describe('logs', () => {
  const lines: string[] = [];
  let t: TestSwitchboard;
  beforeAll(async () => {
    const dest = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    t = await startSwitchboard(BACKENDS[0], { SHUTDOWN_GRACE_SECONDS: '1', LOG_LEVEL: 'trace' }, { log: createLogger('trace', dest) });
  });
  afterAll(() => t.close());

  it('carry no phone number, key, persona or transcript text, even at trace level', async () => {
    const persona = { name: 'Alexandra Smithson', phone: '+46701234567', personal_security_number: '198001011234' };
    const { sid } = (
      await t.sb.app.inject({
        method: 'POST',
        url: `/v1/start-call`,
        headers: { authorization: `Bearer ${t.key}` },
        payload: { phone_number: '+15550100', task: 'Confirm my booking, reference AB123', language: 'en', persona, share_policy: { phone_dtmf: true } },
      })
    ).json();
    const c = await until(async () => {
      const v = (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers: { authorization: `Bearer ${t.key}` } })).json();
      return v.ended_at ? v : null;
    });
    expect(c.transcripts.length).toBeGreaterThan(2);
    // A key in a streaming URL is logged redacted.
    await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}/transcripts/stream?api_key=${t.key}` });
    const log = lines.join('');
    expect(log.length).toBeGreaterThan(1000);
    for (const secret of ['+15550100', '15550100', '701234567', '198001011234', 'Alexandra', t.key, 'AB123', ...c.transcripts.map((s: any) => s.text)]) {
      expect(log.includes(secret), `log contains ${secret}`).toBe(false);
    }
    expect(log).toMatch(/\+15\*+00/); // masked where a number is logged on purpose
  });
});
