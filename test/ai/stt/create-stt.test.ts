/** STT_PROVIDER picks the adapter: `auto` prefers Deepgram, then OpenAI (docs/voice.md). */
import { describe, expect, it } from 'vitest';
import { createStt } from '../../../src/ai/stt/index.js';
import type { SpeechConfig } from '../../../src/config/index.js';

const base: SpeechConfig = { stt: 'auto', engine: 'cascaded', simAudio: false };
const deepgram = { apiKey: 'dg', baseUrl: 'wss://api.deepgram.com' };
const openai = { apiKey: 'sk', baseUrl: 'https://api.openai.com/v1' };

describe('createStt', () => {
  it('auto picks Deepgram when it is configured, else OpenAI', () => {
    expect(createStt({ ...base, deepgram, openai }).provider).toBe('deepgram');
    expect(createStt({ ...base, openai }).provider).toBe('openai');
  });

  it('an explicit provider wins over auto', () => {
    expect(createStt({ ...base, stt: 'openai', deepgram, openai }).provider).toBe('openai');
  });
});
