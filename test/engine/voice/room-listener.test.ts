/**
 * The room listener on its own, with the Deepgram adapter against the fake Deepgram: each track is its own
 * stream, what is still being said when listening stops is a line too, and a speech-to-text that fails or
 * cannot be built is logged while the listening goes on to its end.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { DeepgramStt } from '../../../src/ai/stt/deepgram/index.js';
import type { ListenFrame } from '../../../src/carriers/carrier.js';
import { UsageMeter } from '../../../src/core/credits/usage.js';
import { createLogger } from '../../../src/lib/logger.js';
import { listenToRoom, type RoomTrack } from '../../../src/engine/voice/room-listener.js';
import { startFakeDeepgram, type FakeDeepgram } from '../../fakes/deepgram/fake-deepgram.js';
import { GREETING, MENU, until } from '../../ai/stt/stt-test-helpers.js';

const KEY = 'dg-room-key';

/** The room's frames as a fork sends them: both tracks' 20 ms frames interleaved. */
async function* room(tracks: Partial<Record<RoomTrack, Uint8Array>>, until?: () => Promise<unknown>): AsyncIterable<ListenFrame> {
  const longest = Math.max(...Object.values(tracks).map((a) => a.length));
  for (let i = 0; i < longest; i += 160) {
    for (const [track, audio] of Object.entries(tracks) as Array<[RoomTrack, Uint8Array]>) {
      if (i < audio.length) yield { track, frame: audio.subarray(i, i + 160) };
    }
  }
  // The room goes on (listening has not stopped) until this settles.
  await until?.();
}

const waitFor = (holds: () => boolean) => until(async () => holds() || null, 15_000, 'the condition');

function logged() {
  const lines: string[] = [];
  const log = createLogger('info', new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }));
  return { log, messages: () => lines.map((l) => JSON.parse(l).msg as string) };
}

describe('listenToRoom', () => {
  let fake: FakeDeepgram | undefined;
  afterEach(async () => fake?.close());

  it('transcribes each track on its own stream; a line still being said when listening stops is a line too', async () => {
    fake = await startFakeDeepgram({ apiKey: KEY, recogniseByAudio: true, phrases: [GREETING, MENU] });
    const heard: Array<[RoomTrack, string]> = [];
    const usage = new UsageMeter();
    const { log } = logged();
    // No silence after the speech: no endpointing; closing the streams brings the last transcripts.
    await listenToRoom({
      callId: 'room-1',
      frames: room({ inbound: GREETING.audio, outbound: MENU.audio }),
      stt: () => new DeepgramStt({ apiKey: KEY, baseUrl: fake!.url }),
      language: 'en',
      endpointingMs: 500,
      onLine: (track, text) => heard.push([track, text]),
      usage,
      log,
    });
    expect(heard).toEqual(expect.arrayContaining([['inbound', GREETING.text], ['outbound', MENU.text]]));
    expect(heard).toHaveLength(2);
    expect(fake.connections).toHaveLength(2);
    expect(fake.connections.map((c) => c.closeStreams)).toEqual([1, 1]);
    // Both streams' audio is the call's speech-to-text usage.
    expect(usage.total().sttSeconds).toBeCloseTo((GREETING.audio.length + MENU.audio.length) / 8000, 1);
  });

  it('logs a refused speech-to-text and still follows the room to its end', async () => {
    fake = await startFakeDeepgram({ apiKey: KEY });
    const { log, messages } = logged();
    const heard: string[] = [];
    await listenToRoom({
      callId: 'room-2',
      // The room lasts until the provider has refused the stream.
      frames: room({ inbound: GREETING.audio }, () => waitFor(() => fake!.refused > 0)),
      stt: () => new DeepgramStt({ apiKey: 'wrong', baseUrl: fake!.url }),
      language: 'en',
      endpointingMs: 500,
      onLine: (_track, text) => heard.push(text),
      log,
    });
    expect(heard).toEqual([]);
    expect(fake.refused).toBeGreaterThan(0);
    expect(messages()).toContain('user-on-call room transcription failed');
  });

  it('opens nothing for a silent room, and logs once when no speech-to-text can be built', async () => {
    const { log, messages } = logged();
    let built = 0;
    const none = () => {
      built++;
      throw new Error('speech-to-text provider needs DEEPGRAM_API_KEY');
    };
    await listenToRoom({ callId: 'room-3', frames: room({}), stt: none, language: 'en', endpointingMs: 500, onLine: () => undefined, log });
    expect(built).toBe(0);
    await listenToRoom({ callId: 'room-4', frames: room({ inbound: GREETING.audio, outbound: MENU.audio }), stt: none, language: 'en', endpointingMs: 500, onLine: () => undefined, log });
    expect(built).toBe(1);
    expect(messages().filter((m) => m === 'no speech-to-text for the user-on-call room')).toHaveLength(1);
  });
});
