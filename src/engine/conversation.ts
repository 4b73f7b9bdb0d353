/**
 * The explicit states of a live conversation and its lines, shared by every kind of activity (the agent
 * activity, a speech-to-speech model): one place for the rules of a state change and of a line entering
 * the conversation, and for the events they emit.
 */
import type { Turn } from './brain.js';
import { ev, type AgentState, type SessionEvent, type SpeechSource, type UserState } from './events.js';

export class Conversation {
  private agentNow: AgentState = 'initializing';
  private userNow: UserState = 'listening';
  /** The conversation so far (agent lines: only what was heard). */
  readonly history: Turn[] = [];

  constructor(private readonly emit: (e: SessionEvent) => void) {}

  get agent(): AgentState {
    return this.agentNow;
  }

  get user(): UserState {
    return this.userNow;
  }

  /** A line entered the conversation; only a supervisor's source is reported (the brain's is the default). */
  addItem(role: 'agent' | 'callee', text: string, source?: SpeechSource): void {
    this.history.push({ role, text });
    this.emit(ev.item(role, text, source === 'supervisor' ? source : undefined));
  }

  setAgent(next: AgentState): void {
    if (next === this.agentNow) return;
    const old = this.agentNow;
    this.agentNow = next;
    this.emit(ev.agentState(old, next));
  }

  /** Once the user is `away` (hung up) nothing changes their state again. */
  setUser(next: UserState): void {
    if (next === this.userNow || this.userNow === 'away') return;
    const old = this.userNow;
    this.userNow = next;
    this.emit(ev.userState(old, next));
  }
}
