/**
 * Turn-taking on audio (issue 10 §6): when the callee's sound is an interruption, a backchannel ("mm-hm"),
 * or nothing at all (a cough, a door). One utterance at a time is followed from the voice activity
 * detector's start to the speech-to-text's end of turn:
 *
 * - sound over the agent for `minInterruptionMs` pauses the agent's audio (held, not dropped);
 * - once it has lasted that long AND the transcript has `minInterruptionWords` words, it is an
 *   interruption: the agent's audio is cleared at once and the activity hears `speech_started`;
 * - sound that ends and yields no words within `falseInterruptionMs` of callee audio was a false
 *   interruption: the held audio resumes where it stopped;
 * - a short utterance over the agent ("mm-hm", "okay") never interrupts, and its transcript is not a turn
 *   (LiveKit agents-js drops it the same way): the agent goes on talking.
 *
 * Time is counted in the callee's audio (every frame is 20 ms of it), so no timer runs and tests are exact.
 * Pure logic: the audio I/O (./audio-io.ts) feeds it and carries out what it decides; so does the
 * speech-to-speech activity (../realtime/realtime-activity.ts), whose words come from the model's transcript
 * of each utterance once it is over (`awaitWords`).
 */

/** The turn-taking settings of a call (defaults: DEFAULT_TURN_TAKING; configuration: docs/voice.md). */
export interface TurnTaking {
  /** Silence (ms) after speech that ends the callee's turn: the speech-to-text's endpointing. */
  endpointingMs: number;
  /** Speech shorter than this (ms) never interrupts the agent. */
  minInterruptionMs: number;
  /** Words the transcript must have before speech over the agent interrupts it (0: duration alone). */
  minInterruptionWords: number;
  /** After sound with no words, how long (ms of callee audio) the held audio waits before it resumes. */
  falseInterruptionMs: number;
}

/**
 * Words that acknowledge without taking the turn (English and Swedish backchannels): spoken over the agent
 * they never count toward `minInterruptionWords`, however long they are drawn out ("mmmm-hmm").
 */
const BACKCHANNEL = new Set(['mm', 'mmm', 'mhm', 'mm-hm', 'mm-hmm', 'mhmm', 'hm', 'hmm', 'uh-huh', 'uh', 'um', 'ah', 'aha', 'oh', 'yeah', 'yep', 'yes', 'ok', 'okay', 'right', 'sure', 'ja', 'jo', 'jaha', 'okej', 'precis', 'japp']);

/** The words of a transcript that may take the turn: every word but backchannels ("mm-hm", "yeah", "okay"). */
export function interruptingWords(text: string): number {
  return text
    .toLowerCase()
    .split(/\s+/)
    .map((w) => w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter((w) => /[\p{L}\p{N}]/u.test(w) && !BACKCHANNEL.has(w) && !/^m+-?h*m+$/.test(w)).length;
}

export const DEFAULT_TURN_TAKING: TurnTaking = {
  endpointingMs: 500,
  minInterruptionMs: 500,
  minInterruptionWords: 1,
  falseInterruptionMs: 1000,
};

/** What the detector asks of the audio I/O. */
export interface InterruptionActions {
  /** Whether the agent's audio is playing (or held). */
  agentSpeaking(): boolean;
  /** Hold the agent's audio. */
  pause(): void;
  /** Play the held audio on (a false interruption). */
  resume(): void;
  /** The callee is taking the turn: clear the agent's audio now and tell the activity (`speech_started`). */
  interrupt(): void;
  /** The taking-over utterance's sound ended (`speech_ended`). */
  ended(): void;
}

interface Utterance {
  /** Callee audio (ms) the detector heard as speech. */
  speechMs: number;
  /** Callee audio (ms) of quiet since the sound ended. */
  quietMs: number;
  words: number;
  /** The detector's speech is over (the turn may not be: the transcript may still come). */
  soundEnded: boolean;
  /** Some of it was spoken while the agent talked. */
  overAgent: boolean;
  paused: boolean;
  /** It took the turn (an interruption, or plain speech long enough to count). */
  confirmed: boolean;
  /** Its words are still to come (`awaitWords`): until they do, sound without words is not a false interruption. */
  wordsDue: boolean;
}

export class InterruptionDetector {
  private u: Utterance | undefined;
  /** The turn of a callee who had the floor ended while their sound went on: its end is still reported. */
  private endPending = false;

  constructor(
    private readonly opts: TurnTaking,
    private readonly act: InterruptionActions,
  ) {}

  /** Whether the current utterance took the turn (tests, events). */
  get confirmed(): boolean {
    return !!this.u?.confirmed;
  }

  /** One frame of callee audio (`ms` long); `change` and `speaking` are the voice activity detector's. */
  frame(ms: number, change: 'start' | 'end' | null, speaking: boolean): void {
    // A pause inside an utterance does not start a new one; sound over the agent after the callee already
    // took the turn does (it may interrupt the agent's answer).
    if (change === 'start' && (!this.u || (this.u.confirmed && this.act.agentSpeaking()))) this.begin();
    if (change === 'end' && this.endPending) {
      this.endPending = false;
      this.act.ended();
    }
    const u = this.u;
    if (!u) return;
    // The callee who has the floor speaks again after a pause: they are speaking again (ended → started).
    if (change === 'start' && u.confirmed && u.soundEnded) this.act.interrupt();
    if (speaking) {
      u.speechMs += ms;
      u.quietMs = 0;
      u.soundEnded = false;
      if (this.act.agentSpeaking()) u.overAgent = true;
    } else {
      u.quietMs += ms;
    }
    if (change === 'end') {
      u.soundEnded = true;
      if (u.confirmed) this.act.ended();
    }
    this.check();
    if (u.soundEnded && !u.confirmed && !u.wordsDue && u.words === 0 && u.quietMs >= this.opts.falseInterruptionMs) {
      // Sound that never became words: a false interruption; the agent's audio goes on.
      if (u.paused) this.act.resume();
      this.u = undefined;
    }
  }

  /** The speech-to-text heard speech begin (its own detector). */
  sttSpeechStarted(): void {
    if (!this.u) this.begin();
  }

  /**
   * The speech-to-text has this utterance and will send its words (`words`, then `endOfTurn`) even if they
   * come after the sound ended: a model that transcribes only once the speech is over (OpenAI Realtime).
   * Until then the held audio stays held; `endOfTurn` decides.
   */
  awaitWords(): void {
    if (!this.u) this.begin();
    this.u!.wordsDue = true;
  }

  /** The transcript of the utterance so far has `count` words. */
  words(count: number): void {
    if (!this.u) this.begin();
    this.u!.words = Math.max(this.u!.words, count);
    this.check();
  }

  /**
   * The speech-to-text ended the callee's turn. Says whether the turn's transcript is the callee's line
   * (false: a backchannel spoken over the agent, dropped).
   */
  endOfTurn(): boolean {
    const u = this.u;
    this.u = undefined;
    if (u?.confirmed && !u.soundEnded) this.endPending = true;
    if (!u || u.confirmed) return true;
    if (u.paused) this.act.resume();
    // Words the detector never heard as sound (quiet speech): the speech-to-text is trusted, it is a turn.
    if (u.speechMs === 0) return true;
    return !(u.overAgent || this.act.agentSpeaking());
  }

  private begin(): void {
    this.u = { speechMs: 0, quietMs: 0, words: 0, soundEnded: false, overAgent: this.act.agentSpeaking(), paused: false, confirmed: false, wordsDue: false };
  }

  private check(): void {
    const u = this.u;
    if (!u || u.confirmed || u.speechMs < this.opts.minInterruptionMs) return;
    const speaking = this.act.agentSpeaking();
    if (u.words >= this.opts.minInterruptionWords) {
      u.confirmed = true;
      u.paused = false;
      this.act.interrupt();
      if (u.soundEnded) this.act.ended();
      return;
    }
    if (speaking && !u.paused && !u.soundEnded) {
      u.paused = true;
      this.act.pause();
    }
  }
}
