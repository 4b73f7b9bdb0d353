import type { FaceOptions } from '../shared/options.js';

/** What Phony's route plugins are given: the face's options plus 004's limits and heartbeat. */
export interface PhonyOptions extends FaceOptions {
  overridesPerMinute: number;
  socket: { pingMs: number; timeoutMs: number; messagesPerMinute: number };
}
