/**
 * Prometheus metrics (`/metrics`), with 004's names: per-turn latency histograms and per-call figures.
 * One registry per Switchboard instance, so several instances in one process (tests) never collide.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface TurnLatency {
  /** Callee's final words in → the request to the model (or rules) begins. */
  transcript_to_gpt_ms: number;
  /** Request begins → first output of the model. */
  gpt_first_token_ms: number | null;
  /**
   * Callee's final words in → the reply's first audio: on audio calls the first outbound frame; on carriers
   * that do the speech, the first reply text handed to them.
   */
  first_audio_playback_ms: number | null;
  /** Audio calls: end of the callee's sound → the speech-to-text's final transcript (absent elsewhere). */
  stt_final_ms?: number | null;
  /** Audio calls: the reply's first clause handed to text-to-speech → its first audio byte. */
  tts_first_byte_ms?: number | null;
}

export interface CallFigures {
  call_duration_seconds: number;
  transcript_count: number;
  command_count: number;
  override_count: number;
}

/** prom-client's event-loop delay sampling interval (its default is 10 ms). */
const EVENT_LOOP_RESOLUTION_MS = 20;
const MS_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export class Metrics {
  readonly registry = new Registry();
  private readonly turn: Record<keyof TurnLatency, Histogram>;
  private readonly callDuration: Histogram;
  private readonly perCall: Record<'transcript_count' | 'command_count' | 'override_count', Histogram>;
  private readonly callsEnded: Counter<'status'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    // The event-loop delay histogram samples on a timer of this resolution, which wakes an idle process:
    // 20 ms instead of prom-client's 10 halves those wake-ups (docs/performance.md §14b); the metrics
    // are the same, and a stall shorter than 20 ms is still seen whenever it straddles a sample.
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS });
    const h = (name: string, help: string, buckets: number[]) => new Histogram({ name, help, buckets, registers: [this.registry] });
    this.turn = {
      transcript_to_gpt_ms: h('transcript_to_gpt_ms', 'Time from the transcript of the callee’s words to the model request, ms', MS_BUCKETS),
      gpt_first_token_ms: h('gpt_first_token_ms', 'Time from the model request to its first output, ms', MS_BUCKETS),
      first_audio_playback_ms: h('first_audio_playback_ms', 'Time from the callee’s words to the reply’s first audio frame out (audio calls) or first reply handed to speech, ms', MS_BUCKETS),
      stt_final_ms: h('stt_final_ms', 'Audio calls: time from the end of the callee’s speech to the final transcript, ms', MS_BUCKETS),
      tts_first_byte_ms: h('tts_first_byte_ms', 'Audio calls: time from a reply’s first clause to its first synthesised audio, ms', MS_BUCKETS),
    };
    this.callDuration = h('call_duration_seconds', 'Connected duration of ended calls, s', [5, 15, 30, 60, 120, 300, 600, 1800, 3600]);
    const counts = [0, 1, 2, 5, 10, 20, 50, 100, 200];
    this.perCall = {
      transcript_count: h('transcript_count', 'Transcript segments per ended call', counts),
      command_count: h('command_count', 'Commands (keys, transfers, ends) executed per ended call', counts),
      override_count: h('override_count', 'Supervisor interventions per ended call', counts),
    };
    this.callsEnded = new Counter({ name: 'calls_ended_total', help: 'Calls that reached an end state', labelNames: ['status'], registers: [this.registry] });
  }

  observeTurn(t: TurnLatency): void {
    this.turn.transcript_to_gpt_ms.observe(t.transcript_to_gpt_ms);
    if (t.gpt_first_token_ms !== null) this.turn.gpt_first_token_ms.observe(t.gpt_first_token_ms);
    if (t.first_audio_playback_ms !== null) this.turn.first_audio_playback_ms.observe(t.first_audio_playback_ms);
    if (t.stt_final_ms != null) this.turn.stt_final_ms.observe(t.stt_final_ms);
    if (t.tts_first_byte_ms != null) this.turn.tts_first_byte_ms.observe(t.tts_first_byte_ms);
  }

  observeCall(status: string, f: CallFigures): void {
    this.callsEnded.inc({ status });
    this.callDuration.observe(f.call_duration_seconds);
    this.perCall.transcript_count.observe(f.transcript_count);
    this.perCall.command_count.observe(f.command_count);
    this.perCall.override_count.observe(f.override_count);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** p50 and max of a list of figures (null when empty). */
export function summarize(values: number[]): { p50: number; max: number } | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return { p50: round(s[Math.floor((s.length - 1) / 2)]), max: round(s[s.length - 1]) };
}
