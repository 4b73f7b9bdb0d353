/**
 * The agent listening to a user-on-call room before it takes over (issue 10 §8): the carrier forks the
 * target's leg (`UserOnCallHandle.listen`, both tracks), and each track is transcribed on its own
 * speech-to-text stream, so that the call's transcript, and the agent at takeover, know what was said.
 * Nothing is ever sent into the room.
 */
import type { ListenFrame } from '../../carriers/carrier.js';
import type { SpeechToText, SttStream } from '../../ai/stt/stt.js';
import type { UsageReporter } from '../../core/credits/usage.js';
import type { Logger } from '../../lib/logger.js';

/** Who spoke a line heard in the room: the target's voice is `inbound`; what the target hears (the user) `outbound`. */
export type RoomTrack = ListenFrame['track'];

export interface RoomListenerOptions {
  callId: string;
  /** The room's frames; the iteration ends when listening stops (activation, the end of the call). */
  frames: AsyncIterable<ListenFrame>;
  /** The call's speech-to-text; called at the first frame, so a silent room (the simulated network) opens nothing. */
  stt: () => SpeechToText;
  language: string;
  endpointingMs: number;
  /** One utterance heard in the room, once final. Must not throw. */
  onLine(track: RoomTrack, text: string): void;
  /** Where the speech-to-text's seconds are reported (they are part of the call's cost). */
  usage?: UsageReporter;
  log: Logger;
}

/** One track's stream and the pieces of the utterance being said (finals are consecutive pieces, stt.ts). */
interface TrackStream {
  stream: SttStream;
  pieces: string[];
}

/**
 * Transcribes the room until listening stops, then closes the streams (waiting, bounded, for their last
 * transcripts). Never rejects: a speech-to-text that cannot be built or fails is logged, and the room
 * simply goes on untranscribed (the user and the target still talk).
 */
export async function listenToRoom(o: RoomListenerOptions): Promise<void> {
  const tracks = new Map<RoomTrack, TrackStream>();
  let stt: SpeechToText | undefined;
  let unavailable = false;
  const open = (track: RoomTrack): TrackStream | undefined => {
    if (unavailable) return undefined;
    try {
      stt ??= o.stt();
    } catch (err) {
      unavailable = true;
      o.log.warn({ err, callId: o.callId }, 'no speech-to-text for the user-on-call room');
      return undefined;
    }
    const t: TrackStream = { stream: stt.stream({ language: o.language, endpointingMs: o.endpointingMs, interim: false }), pieces: [] };
    t.stream.onEvent((e) => {
      if (e.type === 'error') o.log.warn({ err: e.error, callId: o.callId, track }, 'user-on-call room transcription failed');
      if (e.type !== 'transcript' || !e.final) return;
      if (e.text.trim()) t.pieces.push(e.text.trim());
      if (e.endOfTurn) say(track, t);
    });
    tracks.set(track, t);
    return t;
  };
  const say = (track: RoomTrack, t: TrackStream) => {
    const text = t.pieces.join(' ');
    t.pieces = [];
    if (text) o.onLine(track, text);
  };
  try {
    for await (const { track, frame } of o.frames) (tracks.get(track) ?? open(track))?.stream.push(frame);
  } catch (err) {
    o.log.warn({ err, callId: o.callId }, 'user-on-call room listening failed');
  }
  await Promise.all(
    [...tracks].map(async ([track, t]) => {
      await t.stream.close();
      // What was said when listening stopped, with no pause after it yet, is a line too.
      say(track, t);
      o.usage?.add({ sttSeconds: t.stream.audioSeconds });
    }),
  );
}
