/**
 * Cold and warm transfers of a Twilio call (protocols.md §1 Update call, §3 `<Dial>`), whichever way its agent
 * talks: over ConversationRelay (text mode) or over Media Streams (audio mode: the engine's cascaded pipeline
 * or a speech-to-speech model). Both redirect the callee's leg to new TwiML with `POST /Calls/{CallSid}.json
 * Twiml=…`; Twilio then closes the relay socket or the media stream, which is the agent leaving, not the
 * callee hanging up (`HandOverChannel.beginHandOver`).
 *
 * Cold: the callee's leg runs `<Dial callerId>to</Dial>` and the agent's part ends at once.
 * Warm: the destination is dialled as a second leg (REST `calls.create` with `/start_call` and the status
 * callback, so busy / no-answer / failed are known), always in text mode: it is answered over its own relay
 * socket, where the agent says the briefing (in the call's voice when ConversationRelay has it, else
 * ConversationRelay's default voice); then both legs are redirected into one conference room. If the
 * destination is not reached, the transfer fails and the callee's leg is untouched.
 *
 * On an audio call, the agent's outbound audio is let finish (or cleared, at most after a bound) right
 * before the callee's leg is redirected (`TransferLeg.quiet`), so that the redirect cuts no word off.
 */
import type { CarrierCallHandle, CarrierEvent, CarrierVoice, DialRequest } from '../carrier.js';
import type { Logger } from '../../lib/logger.js';
import type { ConversationRelayChannel } from './conversation-relay.js';
import { conferenceTwiml, dialTwiml } from './twiml.js';

/**
 * What a transfer needs of the agent's channel on a leg, whichever it is (a ConversationRelay socket, a
 * call's media streams): Twilio closing it after a redirect must not count as the far end hanging up.
 */
export interface HandOverChannel {
  /**
   * Call before redirecting the leg to other TwiML: the socket (or stream) closing from now on is the
   * agent leaving. Returns the undo for a redirect that failed (a close that came meanwhile is then a
   * hang-up after all).
   */
  beginHandOver(): () => void;
  /** The channel is over (the far end hung up, or the leg was handed over). */
  readonly isClosed: boolean;
}

/** The callee's leg, as the transfer sees it. */
export interface TransferLeg {
  callSid: string;
  callId: string;
  /** Our number on this call (a Twilio number or verified caller ID): the caller ID toward the destination. */
  callerId: string;
  language: string;
  /** The call's voice, for the destination of a warm transfer when ConversationRelay has it (else Twilio's default). */
  voice?: CarrierVoice;
  channel: HandOverChannel;
  /** Audio calls: silences the agent before the callee's leg is redirected (see `TransferOptions.quiet`). */
  quiet?: () => Promise<() => void>;
  /** Whether the leg has ended meanwhile (the callee hung up). */
  isEnded(): boolean;
}

/** What the transfers need from the carrier. */
export interface TransferHost {
  log: Logger;
  /** Replaces the TwiML a call runs (`POST /Calls/{CallSid}.json` with `Twiml`). */
  redirect(callSid: string, twiml: string): Promise<void>;
  /** The leg now runs other TwiML: it ends toward its listener with `completed`, reason `transferred`. */
  handedOver(callSid: string): void;
  /** Hangs up a leg over REST (`Status=completed`), whatever it runs. */
  endLeg(callSid: string): Promise<void>;
  /** Dials a leg that the engine does not see; its progress goes to `onEvent`. */
  dial(req: DialRequest, onEvent: (e: CarrierEvent) => void): Promise<CarrierCallHandle & { callSid: string }>;
}

/** How long the destination of a warm transfer rings before it counts as not answering. */
const WARM_RING_SECONDS = 30;

/** Beyond the ringing: how long an answered destination may take to set up its relay and hear the briefing. */
const WARM_SETUP_MS = 30_000;

/** How long the agent waits for the destination's "hello" before briefing anyway. */
const WARM_HELLO_MS = 3_000;

/** The room both legs of a warm transfer meet in: one per call. */
export function transferRoom(callId: string): string {
  return `sb-${callId}`;
}

/** Cold transfer: the callee's leg dials `to`; resolves once Twilio took the redirect (the agent's part is over). */
export async function coldTransfer(host: TransferHost, leg: TransferLeg, to: string): Promise<void> {
  await redirectLeg(host, leg, dialTwiml(to, leg.callerId));
  host.log.info({ callId: leg.callId, callSid: leg.callSid }, 'twilio cold transfer');
}

/**
 * Warm transfer: brief the destination on its own leg, then put both in one room. Rejects (callee's leg
 * untouched, destination hung up) when the destination is busy, does not answer, fails, is a machine, or
 * the callee hung up meanwhile.
 */
export async function warmTransfer(host: TransferHost, leg: TransferLeg, to: string, briefing?: string): Promise<void> {
  const dest = await reachDestination(host, leg, to);
  let inRoom = false;
  try {
    // Speaking into a phone that is still being lifted loses the first words: let the person answer first.
    await firstWords(dest.channel, WARM_HELLO_MS);
    if (briefing) await dest.channel.say(briefing);
    if (dest.gone() || dest.channel.isClosed) throw new Error('transfer destination hung up');
    if (leg.isEnded()) throw new Error('the callee hung up during the transfer');
    const room = conferenceTwiml(transferRoom(leg.callId));
    // The destination first: the callee's redirect is the step that cannot be taken back.
    const undo = dest.channel.beginHandOver();
    await host.redirect(dest.callSid, room).catch((err) => {
      undo();
      throw err;
    });
    host.handedOver(dest.callSid);
    inRoom = true;
    await redirectLeg(host, leg, room);
  } catch (err) {
    // Nobody is left waiting for the callee: not on the relay, not in the room.
    await (inRoom ? host.endLeg(dest.callSid).catch((e) => host.log.warn({ err: e, callId: leg.callId }, 'transfer destination hang-up failed')) : dest.hangup());
    throw err;
  }
  host.log.info({ callId: leg.callId, callSid: leg.callSid, destCallSid: dest.callSid }, 'twilio warm transfer');
}

/**
 * Redirects the callee's leg; its relay or media stream closing is then the agent leaving. On an audio call
 * the agent falls silent first, so the redirect cuts no word off; should the redirect fail, it may speak again.
 */
async function redirectLeg(host: TransferHost, leg: TransferLeg, twiml: string): Promise<void> {
  if (leg.isEnded()) throw new Error('the call has ended');
  const speakAgain = await leg.quiet?.();
  if (leg.isEnded()) {
    speakAgain?.();
    throw new Error('the call has ended');
  }
  const undo = leg.channel.beginHandOver();
  try {
    await host.redirect(leg.callSid, twiml);
  } catch (err) {
    undo();
    speakAgain?.();
    throw err;
  }
  host.handedOver(leg.callSid);
}

interface Destination {
  callSid: string;
  channel: ConversationRelayChannel;
  gone(): boolean;
  hangup(): Promise<void>;
}

/** Dials the destination and waits for its relay channel; rejects when it is not reached. */
async function reachDestination(host: TransferHost, leg: TransferLeg, to: string): Promise<Destination> {
  let gone = false;
  let settle!: { ok: (ch: ConversationRelayChannel) => void; fail: (err: Error) => void };
  const answered = new Promise<ConversationRelayChannel>((ok, fail) => (settle = { ok, fail }));
  // Text mode (ConversationRelay), whatever the callee's leg runs: the briefing is one line, and the relay's
  // recognition tells when the person has said hello (see docs/carriers/twilio.md "Transfers").
  const req: DialRequest = { callId: leg.callId, sid: '', to, from: leg.callerId, language: leg.language, ringTimeoutSeconds: WARM_RING_SECONDS, record: false, voiceMode: 'text', ...(leg.voice ? { voice: leg.voice } : {}) };
  const handle = await host.dial(req, (e) => {
    if (e.type === 'answered') {
      // Voicemail is not a person to hand the callee to.
      if (e.answeredBy === 'machine') settle.fail(new Error('transfer destination answered by a machine'));
      else if (e.mode === 'audio') settle.fail(new Error('transfer destination answered in audio mode'));
      else settle.ok(e.channel as ConversationRelayChannel);
    } else if (e.type === 'ended') {
      gone = true;
      settle.fail(new Error(`transfer destination not reached: ${e.status}`));
    }
  });
  const hangup = () => handle.hangup().catch((err) => host.log.warn({ err, callId: leg.callId }, 'transfer destination hang-up failed'));
  const timer = setTimeout(() => settle.fail(new Error('transfer destination timed out')), WARM_RING_SECONDS * 1000 + WARM_SETUP_MS).unref();
  try {
    const channel = await answered;
    if (leg.isEnded()) throw new Error('the callee hung up during the transfer');
    return { callSid: handle.callSid, channel, gone: () => gone, hangup };
  } catch (err) {
    await hangup();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves when the far end first speaks (or hangs up), or after `ms`. */
function firstWords(channel: ConversationRelayChannel, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms).unref();
    channel.onInput((input) => {
      if (input.type !== 'speech' && input.type !== 'hangup') return;
      clearTimeout(timer);
      resolve();
    });
  });
}

