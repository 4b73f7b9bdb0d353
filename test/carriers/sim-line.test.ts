import { describe, it, expect } from 'vitest';
import type { CalleeInput } from '../../src/carriers/carrier.js';
import { Line } from '../../src/carriers/sim/line.js';
import { VirtualClock } from '../../src/lib/clock.js';

describe('sim line', () => {
  it('queues inputs until a listener is set, and a machine talking over the agent cuts it off', async () => {
    const clock = new VirtualClock();
    const heard: string[] = [];
    let ends = 0;
    const line = new Line(clock, 2, () => ends++);
    line.party = { start() {}, hear: (t) => heard.push(t), digits() {} };
    const agent = line.channel.say('one two three four five six seven eight nine ten');
    await clock.sleep(2000); // four words said
    const spoken = line.speak('Please hold.', { overAgent: true });
    expect(await agent).toEqual({ done: false, heard: 'one two three four' });
    await spoken;
    const inputs: CalleeInput[] = [];
    line.channel.onInput((i) => inputs.push(i));
    expect(inputs).toEqual([{ type: 'speech_started' }, { type: 'speech', text: 'Please hold.' }]);
    expect(heard).toEqual(['one two three four']);
    await line.channel.hangup();
    await line.channel.hangup();
    expect(ends).toBe(1);
    expect(await line.channel.say('anyone?')).toEqual({ done: false, heard: '' });
  });

  it('a person waits for the agent to finish before speaking', async () => {
    const clock = new VirtualClock();
    const line = new Line(clock, 2, () => {});
    line.party = { start() {}, hear() {}, digits() {} };
    const order: string[] = [];
    line.channel.onInput((i) => i.type === 'speech' && order.push('party'));
    const agent = line.channel.say('one two three four').then((r) => (order.push('agent'), r));
    await clock.sleep(500);
    await line.speak('Hello there');
    expect(await agent).toEqual({ done: true });
    expect(order).toEqual(['agent', 'party']);
  });
});
