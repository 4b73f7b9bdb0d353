/**
 * What a turn's HTTP requests cost in CPU (docs/performance.md "Per-call CPU, third round"): one streamed
 * synthesis request (ElevenLabs `ulaw_8000`, a clause's worth of audio in 800-byte chunks, from the voice
 * bench's fake) through the adapter (`postForAudio`, node:http) and through `fetch` reading the same body,
 * and one streamed chat completion (the OpenAI-compatible adapter over `fetch`, a short reply in 4-character
 * pieces) and its body read whole through `fetch` and through `node:http`, on connections that are kept alive. µs of this process's CPU per request, the fakes' own included
 * (they are the same on both sides of a comparison). Alternating rounds, so that a busy machine weighs on both.
 *
 *   npx tsx bench/voice-http.ts
 *
 * Prints a table; asserts nothing.
 */
import http from 'node:http';
import { startElevenLabs, API_KEYS } from './lib/voice-capacity/speech-fakes.js';
import { startOpenAiChatFake } from '../test/fakes/openai-chat.js';
import { ElevenLabsTts } from '../src/ai/tts/elevenlabs/elevenlabs-tts.js';
import { OpenAiCompatibleLlm } from '../src/ai/llm/openai/openai-compatible-llm.js';
import type { LlmRequest } from '../src/ai/llm/llm.js';

const TEXT = 'Hello, this is Alex, about the booking on Tuesday.';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);

const eleven = await startElevenLabs({ sttMs: 0, llmFirstMs: 0, llmPieceMs: 0, ttsFirstMs: 0, ttsSpeed: 1 }, Buffer.alloc(8000, 0x55));
const tts = new ElevenLabsTts({ apiKey: API_KEYS.elevenlabs, baseUrl: eleven.url });
const ttsUrl = `${eleven.url}/v1/text-to-speech/bench/stream?output_format=ulaw_8000`;
const llmFake = await startOpenAiChatFake();
llmFake.script(() => ({ text: TEXT, usage: { prompt_tokens: 400, completion_tokens: 20 } }));
const llm = new OpenAiCompatibleLlm({ baseUrl: llmFake.url, apiKey: 'bench', model: 'gpt-4o-mini' });
const chatUrl = `${llmFake.url}/chat/completions`;
const chatHeaders = { 'content-type': 'application/json', authorization: 'Bearer bench' };
const chatBody = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Hello?' }] });
const ask: LlmRequest = { messages: [{ role: 'user', content: 'Hello?' }], signal: new AbortController().signal } as LlmRequest;

const cases: Record<string, () => Promise<number>> = {
  'synthesis, adapter (node:http)': async () => {
    let n = 0;
    for await (const c of tts.synthesize({ text: TEXT, voice: { provider: 'elevenlabs', voice: 'bench' }, language: 'en', signal: new AbortController().signal })) n += c.length;
    return n;
  },
  'synthesis, fetch': async () => {
    const res = await fetch(ttsUrl, { method: 'POST', headers: { 'xi-api-key': API_KEYS.elevenlabs, 'content-type': 'application/json' }, body: JSON.stringify({ text: TEXT, model_id: 'eleven_flash_v2_5' }) });
    let n = 0;
    for await (const c of res.body!) n += c.length;
    return n;
  },
  'chat completion, adapter (fetch)': async () => {
    let n = 0;
    for await (const c of llm.stream(ask)) if (c.type === 'text') n += c.text.length;
    return n;
  },
  // The same request's body read whole, to tell the client's share from the adapter's: fetch, then node:http.
  'chat completion body, fetch': async () => {
    const res = await fetch(chatUrl, { method: 'POST', headers: chatHeaders, body: chatBody });
    let n = 0;
    for await (const c of res.body!) n += c.length;
    return n;
  },
  'chat completion body, node:http': async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(chatUrl, { method: 'POST', headers: { ...chatHeaders, 'content-length': String(Buffer.byteLength(chatBody)) } }, resolve);
      req.on('error', reject);
      req.end(chatBody);
    });
    let n = 0;
    for await (const c of res as AsyncIterable<Buffer>) n += c.length;
    return n;
  },
};

const totals = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(cases)) {
    for (let i = 0; i < 20; i++) await run(); // warm
    const before = process.cpuUsage();
    for (let i = 0; i < REQUESTS; i++) await run();
    const used = process.cpuUsage(before);
    totals.set(name, [...(totals.get(name) ?? []), (used.user + used.system) / REQUESTS]);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`| request | µs CPU per request (median of ${ROUNDS} rounds of ${REQUESTS}) |`);
console.log('|---|---|');
for (const [name, xs] of totals) console.log(`| ${name} | ${median(xs).toFixed(0)} |`);
console.log(`\nload average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
await eleven.close();
await llmFake.close();
