/**
 * The LLM agent: prompt assembly, tools and the inline command protocol, streaming text helpers, the
 * `LlmBrain` that drives a call with any `Llm`, and the after-call summary.
 */
export { buildSystemPrompt, renderTemplate, languageName, KEYPAD_FIELD_NAMES, type SystemPromptOptions } from './prompt.js';
export {
  toolSpecs,
  toolCallToAction,
  inlineCommandToAction,
  reasonCode,
  TOOL_NAMES,
  DIGITS_PATTERN,
  type ToolName,
  type CommandOutcome,
} from './tools.js';
export {
  InlineCommandParser,
  parseCommand,
  INLINE_COMMANDS,
  type InlineCommand,
  type InlineCommandName,
  type InlinePiece,
} from './inline-commands.js';
export { SentenceSplitter, endsMidSentence, speakable } from './sentences.js';
export { LlmBrain, mergeMessages, MAX_FAILED_TURNS, type LlmBrainOptions } from './llm-brain.js';
export { fallbackLines, type FallbackLines } from './phrases.js';
export {
  summarizeCall,
  summaryMessages,
  parseSummary,
  fallbackSummary,
  SummarySchema,
  type CallSummary,
  type SummarizeInput,
  type SummaryJson,
} from './summarize.js';
