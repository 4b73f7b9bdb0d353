/**
 * A fake model that answers instantly, for `bench/engine-turn.ts`: every utterance of the callee gets one
 * `say` at once, so what the benchmark measures is the engine's own time per turn, not a model's.
 */
import type { Brain, BrainContext, BrainInput, BrainSession, BrainTurn } from '../../src/engine/brain.js';

export const INSTANT_REPLY = 'Sure, one moment.';

class InstantSession implements BrainSession {
  async *next(input: BrainInput, _ctx: BrainContext): BrainTurn {
    // The call's opening is silent (the benchmark's callee speaks first); every utterance gets the reply.
    if (input.type === 'speech') yield { type: 'say', text: INSTANT_REPLY };
  }
}

export class InstantBrain implements Brain {
  readonly name = 'bench:instant';
  startCall(): BrainSession {
    return new InstantSession();
  }
}
