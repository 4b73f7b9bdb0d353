import { describe, expect, it } from 'vitest';
import alawmulaw from 'alawmulaw';
import { createTtsProviders } from '../../../src/ai/tts/index.js';
import { EspeakTts } from '../../../src/ai/tts/espeak/index.js';
import type { TtsRequest } from '../../../src/ai/tts/tts.js';
import { loadConfig } from '../../../src/config/index.js';
import { missingTools } from '../../speech/tools.js';

const missing = missingTools('espeak-ng', 'sox');

async function collect(req: TtsRequest): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const c of new EspeakTts().synthesize(req)) chunks.push(c);
  return chunks;
}

function request(text: string, over: Partial<TtsRequest> = {}): TtsRequest {
  return { text, voice: { provider: 'espeak', voice: 'f3' }, language: 'en', signal: new AbortController().signal, ...over };
}

/** Mean absolute amplitude of μ-law audio (silence is near 0). */
function loudness(mulaw: Uint8Array): number {
  const pcm = alawmulaw.mulaw.decode(mulaw);
  let sum = 0;
  for (const s of pcm) sum += Math.abs(s);
  return pcm.length ? sum / pcm.length : 0;
}

describe.skipIf(missing)('espeak-ng text-to-speech', () => {
  it('is always configured, with no key', () => {
    const providers = createTtsProviders(loadConfig({}).speech);
    expect(providers.espeak?.provider).toBe('espeak');
  });

  it('speaks a clause as μ-law 8 kHz chunks: audible, and as long as the words take', async () => {
    const short = Buffer.concat(await collect(request('Hello.')));
    const long = Buffer.concat(await collect(request('Hello, I am calling to confirm the booking for four people tomorrow at seven.')));
    // μ-law 8 kHz is 8000 bytes a second.
    expect(long.length / 8000).toBeGreaterThan(3);
    expect(long.length).toBeGreaterThan(short.length * 3);
    expect(loudness(long)).toBeGreaterThan(300);
  }, 60_000);

  it('speaks the request language with the variant as the voice', async () => {
    const swedish = Buffer.concat(await collect(request('Hej, jag ringer om min bokning.', { language: 'sv', voice: { provider: 'espeak', voice: 'm3' } })));
    expect(swedish.length / 8000).toBeGreaterThan(1);
    // A variant espeak-ng does not have is not passed through: the language's own voice speaks.
    const odd = Buffer.concat(await collect(request('Hello there.', { voice: { provider: 'espeak', voice: '+x; rm' } })));
    expect(odd.length).toBeGreaterThan(4000);
  }, 60_000);

  it('stops when aborted: before it starts nothing is made, and an abort mid-way ends the iteration without error', async () => {
    const before = new AbortController();
    before.abort();
    expect(await collect(request('Never said.', { signal: before.signal }))).toEqual([]);

    const mid = new AbortController();
    const chunks: Uint8Array[] = [];
    for await (const c of new EspeakTts().synthesize(request('One two three four five six seven eight nine ten eleven twelve.', { signal: mid.signal }))) {
      chunks.push(c);
      mid.abort();
    }
    expect(chunks).toHaveLength(1);

    const during = new AbortController();
    const iteration = collect(request('A long sentence that espeak is still speaking when the caller talks over it.', { signal: during.signal }));
    during.abort();
    expect(await iteration).toEqual([]);
  }, 60_000);
});
