/** Personal data written into a task: found by checksum or numbering plan, replaced, offered for the keypad. */
import { describe, expect, it } from 'vitest';
import { findPersonalData, protectTaskText } from '../../src/core/privacy/index.js';
import { DEFAULT_SHARE_POLICY } from '../../src/core/calls/request.js';

const kinds = (text: string, own: string[] = []) => findPersonalData(text, { ownNumbers: own }).map((m) => [m.kind, text.slice(m.start, m.end)]);

describe('findPersonalData', () => {
  it('finds Swedish personal identity numbers in every written form, and only those whose check digit is right', () => {
    expect(kinds('pnr 19900101-0017, or 900101-0017, or 199001010017, or 9001010017 or 900101 0017')).toEqual([
      ['identity_number', '19900101-0017'],
      ['identity_number', '900101-0017'],
      ['identity_number', '199001010017'],
      ['identity_number', '9001010017'],
      ['identity_number', '900101 0017'],
    ]);
    // A wrong check digit, an impossible date: an order number, not personal data.
    expect(kinds('order 19900101-0018 and 19901301-0017')).toEqual([]);
  });

  it('finds card numbers that pass the Luhn check, grouped or not', () => {
    expect(kinds('card 4111 1111 1111 1111 or 5555-5555-5555-4444 or 378282246310005')).toEqual([
      ['card_number', '4111 1111 1111 1111'],
      ['card_number', '5555-5555-5555-4444'],
      ['card_number', '378282246310005'],
    ]);
    expect(kinds('tracking 4111 1111 1111 1112')).toEqual([]);
  });

  it('finds phone numbers other than the call’s own, read in the destination’s country', () => {
    const text = 'Call back on 070-123 45 67 or +44 20 7946 0958; you are calling +46 8 123 456 78.';
    expect(kinds(text, ['+46812345678'])).toEqual([
      ['phone_number', '070-123 45 67'],
      ['phone_number', '+44 20 7946 0958'],
    ]);
  });
});

describe('protectTaskText', () => {
  const src = (task: string, policy = {}) => ({ task, additionalPrompt: 'Card: 4111111111111111', sharePolicy: { ...DEFAULT_SHARE_POLICY, ...policy }, ownNumbers: ['+15550105'] });

  it('replaces each number by a numbered placeholder, the same number by the same one', () => {
    const p = protectTaskText(src('My personnummer is 19900101-0017 (again: 900101-0017); card 4111 1111 1111 1111.'));
    expect(p.task).toBe('My personnummer is [personal identity number 1] (again: [personal identity number 1]); card [card number 1].');
    expect(p.additionalPrompt).toBe('Card: [card number 1]');
    expect(p.details.map((d) => [d.field, d.digits, d.keypad])).toEqual([
      ['task_identity_number_1', '199001010017', false],
      ['task_card_number_1', '4111111111111111', false],
    ]);
  });

  it('offers identity and card numbers for the keypad with pnr_dtmf, phone numbers with phone_dtmf', () => {
    const p = protectTaskText(src('pnr 19900101-0017, mobile +46 70 123 45 67', { pnr_dtmf: true }));
    expect(p.details.map((d) => [d.field, d.keypad])).toEqual([
      ['task_identity_number_1', true],
      ['task_phone_number_1', false],
      ['task_card_number_1', true],
    ]);
  });

  it('keeps identity numbers out even with pnr_voice, and leaves phone numbers in with phone_voice', () => {
    const p = protectTaskText(src('pnr 19900101-0017, mobile +46 70 123 45 67', { pnr_voice: true, phone_voice: true }));
    expect(p.task).toBe('pnr [personal identity number 1], mobile +46 70 123 45 67');
  });
});

describe('shownKeys', () => {
  it('masks a protected number inside keys pressed, in its long and short forms, and leaves menu choices readable', async () => {
    const { shownKeys } = await import('../../src/engine/brief.js');
    const { canonicalStartCall } = await import('../../src/core/calls/request.js');
    const req = canonicalStartCall({ phone_number: '+15550105', task: 'Card 4111 1111 1111 1111', persona: { personal_security_number: '19900101-0017' } });
    expect(shownKeys(req, '1w199001010017#')).toBe('1w••••••••••••#');
    expect(shownKeys(req, '9001010017#')).toBe('••••••••••#');
    expect(shownKeys(req, '4111111111111111')).toBe('••••••••••••••••');
    expect(shownKeys(req, '2')).toBe('2');
    // A number the client allowed to be said is shown as pressed.
    expect(shownKeys({ ...req, task: 'x', sharePolicy: { ...req.sharePolicy, pnr_voice: true } }, '199001010017')).toBe('199001010017');
  });
});
