/**
 * A user-on-call session as the call keeps it (`RoomState`, core/calls/user-on-call.ts), made from what the
 * carrier reports (`ConferenceStatus`) and how the call went: one place for the mapping.
 */
import type { ConferenceStatus } from '../carriers/carrier.js';
import type { RoomState } from '../core/calls/user-on-call.js';

export interface RoomIds {
  /** The call's sid (the target's leg). */
  callSid: string;
  /** Switchboard's sid of the user's leg. */
  userCallSid: string;
}

/**
 * `ended`: how the call ended, once it has — a session whose room never connected `failed`; one whose agent
 * handed the call over ends `transferred`.
 */
export function roomState(s: ConferenceStatus, ids: RoomIds, ended?: { everConnected: boolean; transferred: boolean }): RoomState {
  let state: RoomState['state'] = s.phase;
  if (ended && !ended.everConnected) state = 'failed';
  else if (ended?.transferred) state = 'transferred';
  else if (ended) state = 'completed';
  return {
    state,
    participants: s.participants.map((p) => ({
      role: p.label,
      callSid: p.label === 'target' ? ids.callSid : ids.userCallSid,
      carrierCallSid: p.callSid,
      status: p.status,
      muted: false,
    })),
    aiActive: !ended && s.phase === 'active',
  };
}
