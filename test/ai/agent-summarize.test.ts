import { describe, it, expect } from 'vitest';
import { summarizeCall, parseSummary } from '../../src/ai/agent/index.js';
import { LlmError } from '../../src/ai/llm/llm.js';
import type { AgentBrief } from '../../src/engine/brain.js';
import { ScriptedLlm, text } from './helpers/scripted-llm.js';

const brief: AgentBrief = { task: 'Book a table for two on Friday', additionalPrompt: '', language: 'en', persona: {}, keypadFields: [] };
const transcript = [
  { role: 'agent', text: 'Hi, I would like to book a table for two on Friday.' },
  { role: 'callee', text: 'Sure, 7 pm works. Your reference is QR-552.' },
  { role: 'agent', text: 'Thank you, goodbye!' },
];
const GOOD = JSON.stringify({ summary: 'The table was booked for Friday at 7 pm.', goal_completed: true, extracted: { time: '19:00', reference: 'QR-552' } });

describe('summarizeCall', () => {
  it('uses a valid JSON answer from one JSON-mode request', async () => {
    const llm = new ScriptedLlm([text(GOOD.slice(0, 20), GOOD.slice(20))]);
    expect(await summarizeCall(llm, { brief, transcript })).toEqual({
      summary: 'The table was booked for Friday at 7 pm.',
      goalCompleted: true,
      extracted: { time: '19:00', reference: 'QR-552' },
      source: 'model',
    });
    expect(llm.requests).toHaveLength(1);
    expect(llm.requests[0].json).toBe(true);
    expect(llm.requests[0].tools).toBeUndefined();
    const user = llm.requests[0].messages[1].content!;
    expect(user).toContain('Task: Book a table for two on Friday');
    expect(user).toContain('Callee: Sure, 7 pm works. Your reference is QR-552.');
    expect(llm.requests[0].messages[0].content).toContain('"goal_completed": boolean');
  });

  it('retries once after invalid JSON', async () => {
    const llm = new ScriptedLlm([text('Sure! Here is the summary: {"summary": "x",'), text(GOOD)]);
    expect(await summarizeCall(llm, { brief, transcript })).toMatchObject({ goalCompleted: true, source: 'model' });
    expect(llm.requests).toHaveLength(2);
  });

  it('falls back after two bad answers (wrong shape, model error)', async () => {
    const llm = new ScriptedLlm([
      text(JSON.stringify({ summary: 'x', goal_completed: 'yes', extracted: {} })),
      new LlmError('server', 'upstream failed', true),
    ]);
    const s = await summarizeCall(llm, { brief, transcript, goalCompleted: true });
    expect(llm.requests).toHaveLength(2);
    expect(s).toEqual({
      summary: expect.stringContaining('Assistant: Thank you, goodbye!'),
      goalCompleted: true,
      extracted: {},
      source: 'fallback',
    });
    expect(s.summary).toContain('QR-552');
  });

  it('falls back for an empty call without asking twice about an aborted signal', async () => {
    const llm = new ScriptedLlm([]);
    const s = await summarizeCall(llm, { brief, transcript: [], signal: AbortSignal.abort() });
    expect(s).toEqual({ summary: 'Nothing was said during the call.', goalCompleted: false, extracted: {}, source: 'fallback' });
    expect(llm.requests).toHaveLength(0);
  });
});

describe('parseSummary', () => {
  it('accepts fenced JSON and refuses wrong shapes', () => {
    expect(parseSummary('```json\n' + GOOD + '\n```')).toMatchObject({ goal_completed: true });
    expect(parseSummary('{"summary": "x", "goal_completed": true}')).toBeNull();
    expect(parseSummary('{"summary": "x", "goal_completed": true, "extracted": []}')).toBeNull();
    expect(parseSummary('{"summary": 1, "goal_completed": true, "extracted": {}}')).toBeNull();
    expect(parseSummary('not json')).toBeNull();
  });
});
