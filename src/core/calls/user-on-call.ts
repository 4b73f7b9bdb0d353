/**
 * User-on-call (001 "User-on-call explained"): a user (an operator) and the target talk in one room; the
 * agent takes over on `activate`. Its state model, as stored on the call (`calls.conference`) and shown by
 * `GET /v1/calls/:callSid/conference-status`:
 *
 *   initiated → connected → ai_takeover → active → completed | transferred
 *        ↘ failed     ↘ completed (ended before any takeover)
 */

export const USER_ON_CALL_STATES = ['initiated', 'connected', 'ai_takeover', 'active', 'transferred', 'completed', 'failed'] as const;
export type UserOnCallState = (typeof USER_ON_CALL_STATES)[number];

/** One leg of the room. `callSid` is Switchboard's (the call's sid for the target); the carrier's is kept beside it. */
export interface RoomParticipant {
  role: 'user' | 'target';
  callSid: string;
  carrierCallSid?: string;
  /** `queued` | `ringing` | `connected`, or how the leg ended (`completed`, `busy`, `no_answer`, `failed`, `canceled`). */
  status: string;
  /** Nobody is muted by Switchboard; kept for 001's shape. */
  muted: boolean;
}

/** `calls.conference`: a user-on-call session as it last stood. */
export interface RoomState {
  state: UserOnCallState;
  participants: RoomParticipant[];
  /** The agent talks on the call (after takeover). */
  aiActive: boolean;
}

/** The state right after start-call: both legs still to be dialled. */
export function initialRoom(callSid: string, userCallSid: string): RoomState {
  return {
    state: 'initiated',
    participants: [
      { role: 'user', callSid: userCallSid, status: 'queued', muted: false },
      { role: 'target', callSid, status: 'queued', muted: false },
    ],
    aiActive: false,
  };
}

/** States in which the agent has been asked to take over already (activate answers 400). */
export const TAKEN_OVER: ReadonlySet<UserOnCallState> = new Set(['ai_takeover', 'active', 'transferred']);
