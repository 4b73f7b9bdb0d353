import { describe, it, expect } from 'vitest';
import { InlineCommandParser, type InlineCommand, type InlinePiece } from '../../src/ai/agent/index.js';

function feed(chunks: string[]): { text: string; commands: InlineCommand[]; pieces: InlinePiece[] } {
  const p = new InlineCommandParser();
  const pieces = [...chunks.flatMap((c) => p.push(c)), ...p.flush()];
  return {
    text: pieces.map((x) => (x.type === 'text' ? x.text : '')).join(''),
    commands: pieces.flatMap((x) => (x.type === 'command' ? [x.command] : [])),
    pieces,
  };
}

/** A tiny seeded generator, so a failure can be reproduced. */
function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe('inline command parser', () => {
  const INPUT =
    'Okay, I will choose bookings. [[press:123]] Now a transfer [[transfer:+15551234567]]. Price [is] fine; ' +
    'a [[bogus:1]] [[request_user:What is the account number?]] Thanks [[end_call]]';
  const TEXT = 'Okay, I will choose bookings.  Now a transfer . Price [is] fine; a   Thanks ';
  const COMMANDS: InlineCommand[] = [
    { name: 'press', param: '123' },
    { name: 'transfer', param: '+15551234567' },
    { name: 'request_user', param: 'What is the account number?' },
    { name: 'end_call' },
  ];

  it('parses the whole text in one chunk', () => {
    expect(feed([INPUT])).toMatchObject({ text: TEXT, commands: COMMANDS });
  });

  it('parses a command split across chunks: [[pre + ss:12 + 3]]', () => {
    const r = feed(['Pressing [[pre', 'ss:12', '3]] now']);
    expect(r.pieces).toEqual([
      { type: 'text', text: 'Pressing ' },
      { type: 'command', command: { name: 'press', param: '123' } },
      { type: 'text', text: ' now' },
    ]);
  });

  it('gives the same result for any split of the stream, and never emits [[', () => {
    const random = rng(42);
    for (let n = 0; n < 300; n++) {
      const cuts = new Set<number>();
      const k = 1 + Math.floor(random() * 12);
      for (let i = 0; i < k; i++) cuts.add(Math.floor(random() * INPUT.length));
      const sorted = [0, ...[...cuts].sort((a, b) => a - b), INPUT.length];
      const chunks = sorted.slice(1).map((end, i) => INPUT.slice(sorted[i], end));
      const r = feed(chunks);
      expect(r.text, JSON.stringify(chunks)).toBe(TEXT);
      expect(r.commands).toEqual(COMMANDS);
      for (const p of r.pieces) if (p.type === 'text') expect(p.text).not.toContain('[[');
    }
    // one character at a time
    expect(feed([...INPUT])).toMatchObject({ text: TEXT, commands: COMMANDS });
  });

  it('emits text before a pending command at once', () => {
    const p = new InlineCommandParser();
    expect(p.push('Hello there [[pr')).toEqual([{ type: 'text', text: 'Hello there ' }]);
    expect(p.push('ess:1')).toEqual([]);
    expect(p.push(']]!')).toEqual([{ type: 'command', command: { name: 'press', param: '1' } }, { type: 'text', text: '!' }]);
  });

  it('speaks a lone [ that is not a command', () => {
    expect(feed(['Option [', 'A] is ok ['])).toMatchObject({ text: 'Option [A] is ok [', commands: [] });
  });

  it('drops unknown commands and an unclosed [[ at the end', () => {
    expect(feed(['Hi [[dance:now]] there [[press:1'])).toMatchObject({ text: 'Hi  there ', commands: [] });
  });

  it('tolerates spaces and case in a command', () => {
    expect(feed(['[[ Press : 5 ]][[END_CALL]]']).commands).toEqual([{ name: 'press', param: '5' }, { name: 'end_call' }]);
  });
});
