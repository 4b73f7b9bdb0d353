/** Billing fixtures shared by the credits tests. */
import type { CallUsage } from '../../src/core/credits/index.js';

/** 001's scenarios as a cascaded call over a media stream would meter them (docs/billing.md). */
export const EXAMPLES: Array<{ name: string; usage: CallUsage; credits: number }> = [
  {
    name: '2-minute call with transcription + TTS',
    usage: { connectedSeconds: 120, mediaSeconds: 120, sttSeconds: 120, llmInputTokens: 12_000, llmOutputTokens: 600, ttsCharacters: 1000 },
    credits: 4,
  },
  {
    name: '8-minute queue + 2-minute conversation',
    usage: { connectedSeconds: 600, mediaSeconds: 600, sttSeconds: 600, llmInputTokens: 12_000, llmOutputTokens: 600, ttsCharacters: 1000 },
    credits: 10,
  },
  {
    name: '45-second short confirmation call',
    usage: { connectedSeconds: 45, mediaSeconds: 45, sttSeconds: 45, llmInputTokens: 3000, llmOutputTokens: 150, ttsCharacters: 300 },
    credits: 2,
  },
];

