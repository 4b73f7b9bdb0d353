/**
 * Every TwiML document Switchboard sends Twilio, built with the `twilio` package's own `VoiceResponse` (it
 * knows the verbs and escapes text and attributes), never by string templates.
 */
import { createRequire } from 'node:module';
import type VoiceResponse from 'twilio/lib/twiml/VoiceResponse.js';

type Response = VoiceResponse;

const require = createRequire(import.meta.url);
let Builder: typeof VoiceResponse | undefined;

/**
 * A new document. The builder is loaded on first use, and alone (not the whole `twilio` package, which the
 * REST client also loads lazily): a node that carries no Twilio call never pays for it at start-up.
 */
function response(): Response {
  Builder ??= require('twilio/lib/twiml/VoiceResponse.js') as typeof VoiceResponse;
  return new Builder();
}

/** `<Hangup/>`. */
export function hangupTwiml(): string {
  const r = response();
  r.hangup();
  return r.toString();
}

/** Says `message`, then hangs up. */
export function sayAndHangup(message: string): string {
  const r = response();
  r.say(message);
  r.hangup();
  return r.toString();
}

/**
 * Connects the call to the ConversationRelay socket; `action` is requested when the session is over.
 * `voice`: the call's `ttsProvider` and `voice` attributes (relay-voice.ts); Twilio's default voice without.
 */
export function relayTwiml(o: { action: string; url: string; language: string; callSid: string; voice?: { ttsProvider?: string; voice?: string } }): string {
  const r = response();
  r.connect({ action: o.action })
    .conversationRelay({ url: o.url, language: o.language, interruptible: 'any', dtmfDetection: true, ...o.voice })
    .parameter({ name: 'callSid', value: o.callSid });
  return r.toString();
}

/** What names a media stream's call: Switchboard's call id and a token signed over it (see media-stream.ts). */
export interface StreamTarget {
  url: string;
  callId: string;
  token: string;
}

function connectStream(r: Response, s: StreamTarget): void {
  const stream = r.connect().stream({ url: s.url });
  stream.parameter({ name: 'callId', value: s.callId });
  stream.parameter({ name: 'token', value: s.token });
}

/** Connects the call to a (bidirectional) media stream. */
export function streamTwiml(s: StreamTarget): string {
  const r = response();
  connectStream(r, s);
  return r.toString();
}

/**
 * Plays `digits` on the call, then connects it to a new media stream: how digits are sent in audio mode.
 * Sent as an update's `Twiml` parameter, without the XML declaration (as Twilio's examples do).
 */
export function digitsThenStreamTwiml(digits: string, s: StreamTarget): string {
  const r = response();
  r.play({ digits });
  connectStream(r, s);
  return withoutDeclaration(r);
}

/** `<Dial>` to `to` with `callerId` shown. */
export function dialTwiml(to: string, callerId: string): string {
  const r = response();
  r.dial({ callerId }, to);
  return r.toString();
}

/** Joins conference `room`; either leg leaving ends it; no beep. */
export function conferenceTwiml(room: string): string {
  const r = response();
  r.dial().conference({ startConferenceOnEnter: true, endConferenceOnExit: true, beep: 'false' }, room);
  return r.toString();
}

/** Joins conference `room` without ending it on leaving (a leg that comes and goes, like the agent's); no beep. */
export function joinRoomTwiml(room: string): string {
  const r = response();
  r.dial().conference({ startConferenceOnEnter: true, endConferenceOnExit: false, beep: 'false' }, room);
  return r.toString();
}

function withoutDeclaration(r: Response): string {
  return r.toString().replace(/^<\?xml[^>]*\?>/, '');
}
