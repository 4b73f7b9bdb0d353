/** The agent's I/O: the interface every speech path implements, and its text-mode implementation. */
export type { AgentIO, IOCapabilities, PlayoutResult, UserInput } from './io.js';
export { TextIO, toUserInput } from './text-io.js';
