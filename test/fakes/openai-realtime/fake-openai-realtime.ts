/**
 * A fake OpenAI Realtime server, written from ../shared/protocols.md §6 (GA protocol): a real WebSocket
 * server on 127.0.0.1:0 at `/v1/realtime?model=…` that checks `Authorization: Bearer`, refuses the beta
 * header (it speaks GA only), and answers like the real one:
 * - `session.created` first; `session.update` is checked (session.type, voice, audio formats) and
 *   answered with `session.updated` or an `error` naming the param;
 * - server VAD from the energy of the appended μ-law audio: `speech_started` / `speech_stopped` (by
 *   `silence_duration_ms` of quiet audio, or, because a test's callee sends no silence frames, after
 *   `quietMs` of wall time with no audio at all), `committed`, the user item, and, with transcription on,
 *   `…input_audio_transcription.delta` (word by word) and `.completed` with the test's scripted transcript;
 * - responses (after speech when `create_response` is not false, or on `response.create`) scripted by the test: audio
 *   deltas (μ-law, a tone as long as the text, or given audio) with transcript deltas in step, the
 *   transcript's `done`, function calls (`response.function_call_arguments.done`), and `response.done`
 *   with usage; speech over a response cancels it (`interrupt_response`), as does `response.cancel`;
 * - `conversation.item.truncate` checked against the item's audio (`conversation.item.truncated`);
 * - `error` events for what the real server refuses (a second response while one is active, an unknown
 *   item, a cancel with nothing to cancel).
 * Everything a client sends is kept in `received` (audio appends as their byte count only).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeMulaw, encodeMulaw } from '../../../src/carriers/twilio/mulaw.js';
import { unawaited } from '../../helpers/unawaited.js';

/** What the "model" does in one response. */
export interface FakeReply {
  /** Spoken: its transcript, and (without `audio`) a tone of `msPerChar` per character as its audio. */
  say?: string;
  /** μ-law 8 kHz audio to send instead of the tone. */
  audio?: Buffer;
  /** Functions called after the speech, in order. */
  calls?: Array<{ name: string; arguments: Record<string, unknown> | string }>;
  /** Holds the response after this many audio deltas until `resume()`, a `response.cancel` or speech over it. */
  pauseAfterDeltas?: number;
}

export interface FakeTurn {
  /** `speech`: server VAD ended an utterance; `response.create`: the client asked. */
  trigger: 'speech' | 'response.create';
  /**
   * The transcript of the utterance answered: after speech (server VAD's own response), or on a
   * `response.create` without instructions whose conversation ends with the callee's audio (the client
   * answering it). Undefined otherwise.
   */
  heard?: string;
  /** `response.create`'s `response.instructions`, if any. */
  instructions?: string;
  /** The conversation so far (user texts, function outputs, assistant transcripts). */
  items: FakeItem[];
  /** 0-based count of responses on this connection. */
  n: number;
}

export interface FakeItem {
  id: string;
  type: 'message' | 'function_call' | 'function_call_output';
  role?: 'user' | 'assistant' | 'system';
  text?: string;
  /** Assistant audio items: how many ms of audio were sent, and where they were truncated. */
  audioMs?: number;
  truncatedAtMs?: number;
  callId?: string;
  name?: string;
  output?: string;
  /** User audio items: settles once its transcription (if any) is done; whether a response answered it. */
  transcribed?: Promise<void>;
  answered?: boolean;
}

export interface FakeRealtimeOptions {
  apiKey?: string;
  /** Writes each response (undefined: the model says nothing). */
  script?: (turn: FakeTurn) => FakeReply | undefined;
  /** Transcripts of the callee's utterances, in order (`''` when they run out). */
  transcripts?: string[];
  /** Wait before each transcription and each response (a model's time to first byte). Default 0. */
  latencyMs?: number;
  /** Audio per delta (default 100 ms). */
  deltaMs?: number;
  /** Tone length per character of `say` (default 40 ms). */
  msPerChar?: number;
  /** Wall time with no audio at all that ends an utterance (default 150 ms). */
  quietMs?: number;
  /** Mean absolute sample level (16-bit) above which a 20 ms frame is speech (default 300). */
  energy?: number;
}

/** One client connection: what it sent, and the conversation the fake holds for it. */
export interface FakeRealtimeConnection {
  url: string;
  headers: http.IncomingHttpHeaders;
  /** Client events in order; `input_audio_buffer.append` is kept as `{ type, bytes }`. */
  received: Array<Record<string, any>>;
  /** Server events sent, in order (audio deltas as `{ type, bytes }`). */
  sent: Array<Record<string, any>>;
  items: FakeItem[];
  session: Record<string, any>;
  /** μ-law bytes appended so far. */
  audioBytes: number;
  closed: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FakeOpenAIRealtime {
  readonly connections: FakeRealtimeConnection[] = [];
  private server = http.createServer((_req, res) => res.writeHead(404).end());
  private wss = new WebSocketServer({ noServer: true });
  private resumes: Array<() => void> = [];
  private ids = 0;
  url = '';

  constructor(readonly o: FakeRealtimeOptions = {}) {}

  /** Changes the script (tests set it after start, per case). */
  set script(s: FakeRealtimeOptions['script']) {
    this.o.script = s;
  }

  set transcripts(t: string[]) {
    this.o.transcripts = t;
  }

  async start(): Promise<void> {
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const refuse = (status: number, message: string) => {
        const body = JSON.stringify({ error: { type: 'invalid_request_error', code: null, message } });
        socket.end(`HTTP/1.1 ${status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      };
      if (url.pathname !== '/v1/realtime') return refuse(404, 'not found');
      if (req.headers.authorization !== `Bearer ${this.o.apiKey ?? 'sk-test'}`) return refuse(401, 'Incorrect API key provided');
      if (req.headers['openai-beta']) return refuse(400, 'this fake speaks the GA protocol only');
      if (!url.searchParams.get('model')) return refuse(400, 'model is required');
      this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws, req, url));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** Lets paused responses go on. */
  resume(): void {
    for (const r of this.resumes.splice(0)) r();
  }

  /** Sends `text` as it is to every open connection: a server event of a shape the client must survive. */
  sendRaw(text: string): void {
    for (const ws of this.wss.clients) if (ws.readyState === ws.OPEN) ws.send(text);
  }

  /** The client events of every connection, in order. */
  received(type?: string): Array<Record<string, any>> {
    return this.connections.flatMap((c) => c.received).filter((e) => !type || e.type === type);
  }

  async close(): Promise<void> {
    this.resume();
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise((r) => this.server.close(r));
  }

  private id(prefix: string): string {
    return `${prefix}_${++this.ids}`;
  }

  private serve(ws: WebSocket, req: http.IncomingMessage, url: URL): void {
    const c: FakeRealtimeConnection = { url: url.toString(), headers: req.headers, received: [], sent: [], items: [], session: { type: 'realtime', id: this.id('sess'), model: url.searchParams.get('model') }, audioBytes: 0, closed: false };
    this.connections.push(c);
    const o = this.o;
    let events = 0;
    const send = (e: Record<string, any>) => {
      if (ws.readyState !== ws.OPEN) return;
      const full = { event_id: `ev_${++events}`, ...e };
      c.sent.push(e.type === 'response.output_audio.delta' ? { type: e.type, item_id: e.item_id, bytes: Buffer.from(e.delta, 'base64').length } : full);
      ws.send(JSON.stringify(full));
    };
    const fail = (code: string, message: string, param: string | null, eventId?: string) =>
      send({ type: 'error', error: { type: 'invalid_request_error', code, message, param, event_id: eventId ?? null } });

    // ---- server VAD ----
    let speaking: { itemId: string; startMs: number } | undefined;
    let silentMs = 0;
    let quiet: NodeJS.Timeout | undefined;
    let utterances = 0;
    let responses = 0;
    let active: { id: string; cancelled: boolean; release?: () => void } | undefined;
    const vad = () => c.session.audio?.input?.turn_detection as Record<string, any> | null | undefined;
    const nowMs = () => Math.floor(c.audioBytes / 8);

    const stopSpeech = () => {
      clearTimeout(quiet);
      const s = speaking;
      if (!s) return;
      speaking = undefined;
      silentMs = 0;
      send({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: nowMs(), item_id: s.itemId });
      const previous = c.items.at(-1)?.id ?? null;
      send({ type: 'input_audio_buffer.committed', previous_item_id: previous, item_id: s.itemId });
      let transcribed!: () => void;
      const item: FakeItem = { id: s.itemId, type: 'message', role: 'user', transcribed: new Promise<void>((r) => (transcribed = r)) };
      c.items.push(item);
      send({ type: 'conversation.item.added', previous_item_id: previous, item: { id: s.itemId, type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_audio', transcript: null }] } });
      const seconds = (nowMs() - s.startMs) / 1000;
      unawaited((async () => {
        await sleep(o.latencyMs ?? 0);
        let heard: string | undefined;
        if (c.session.audio?.input?.transcription) {
          heard = o.transcripts?.[utterances] ?? '';
          item.text = heard;
          // As gpt-4o-transcribe does: the words as deltas once the utterance is committed, then the whole.
          for (const part of heard.split(/(?<=\s)/).filter(Boolean)) {
            send({ type: 'conversation.item.input_audio_transcription.delta', item_id: s.itemId, content_index: 0, delta: part });
          }
          send({ type: 'conversation.item.input_audio_transcription.completed', item_id: s.itemId, content_index: 0, transcript: heard, usage: { type: 'duration', seconds } });
        }
        utterances++;
        transcribed();
        if (vad()?.create_response !== false && !active) {
          item.answered = true;
          await respond({ trigger: 'speech', heard });
        }
      })());
    };

    const onAudio = (mulaw: Buffer) => {
      const td = vad();
      for (let i = 0; i < mulaw.length; i += 160) {
        const frame = decodeMulaw(mulaw.subarray(i, i + 160));
        let sum = 0;
        for (const s of frame) sum += Math.abs(s);
        const loud = frame.length > 0 && sum / frame.length > (o.energy ?? 300);
        c.audioBytes += frame.length;
        if (!td) continue;
        if (loud) {
          silentMs = 0;
          if (!speaking) {
            speaking = { itemId: this.id('item_u'), startMs: nowMs() };
            send({ type: 'input_audio_buffer.speech_started', audio_start_ms: speaking.startMs, item_id: speaking.itemId });
            if (active && td.interrupt_response !== false) cancel('turn_detected');
          }
        } else if (speaking) {
          silentMs += frame.length / 8;
          if (silentMs >= (td.silence_duration_ms ?? 500)) stopSpeech();
        }
      }
      if (speaking) {
        clearTimeout(quiet);
        quiet = setTimeout(stopSpeech, o.quietMs ?? 150);
      }
    };

    // ---- responses ----
    const cancel = (reason: string) => {
      if (!active) return false;
      active.cancelled = true;
      (active as { reason?: string }).reason = reason;
      active.release?.();
      return true;
    };

    const respond = async (t: Omit<FakeTurn, 'items' | 'n'>, spoken?: FakeItem) => {
      const resp: { id: string; cancelled: boolean; release?: () => void; reason?: string } = { id: this.id('resp'), cancelled: false };
      active = resp;
      const n = responses++;
      send({ type: 'response.created', response: { id: resp.id, object: 'realtime.response', status: 'in_progress', output: [] } });
      await sleep(o.latencyMs ?? 0);
      if (spoken) {
        await spoken.transcribed;
        t = { ...t, heard: spoken.text ?? '' };
      }
      const reply = (resp.cancelled ? undefined : o.script?.({ ...t, items: [...c.items], n })) ?? {};
      const output: Array<Record<string, any>> = [];
      let outputTokens = 0;
      if ((reply.say || reply.audio) && !resp.cancelled) {
        const itemId = this.id('item_a');
        const text = reply.say ?? '';
        const audio = reply.audio ?? tone(text.length * (o.msPerChar ?? 40));
        const item: FakeItem = { id: itemId, type: 'message', role: 'assistant', text: '', audioMs: 0 };
        c.items.push(item);
        send({ type: 'response.output_item.added', response_id: resp.id, output_index: 0, item: { id: itemId, type: 'message', role: 'assistant', status: 'in_progress', content: [] } });
        send({ type: 'response.content_part.added', response_id: resp.id, item_id: itemId, output_index: 0, content_index: 0, part: { type: 'output_audio', transcript: '' } });
        const step = (o.deltaMs ?? 100) * 8;
        const deltas = Math.max(1, Math.ceil(audio.length / step));
        const words = text.split(/(?<=\s)/);
        let wordsSent = 0;
        for (let i = 0; i < deltas && !resp.cancelled; i++) {
          const chunk = audio.subarray(i * step, (i + 1) * step);
          send({ type: 'response.output_audio.delta', response_id: resp.id, item_id: itemId, output_index: 0, content_index: 0, delta: chunk.toString('base64') });
          item.audioMs! += chunk.length / 8;
          // The transcript keeps step with the audio: the words of this share of it.
          const upTo = Math.round((words.length * (i + 1)) / deltas);
          const part = words.slice(wordsSent, upTo).join('');
          wordsSent = upTo;
          if (part) {
            item.text += part;
            send({ type: 'response.output_audio_transcript.delta', response_id: resp.id, item_id: itemId, output_index: 0, content_index: 0, delta: part });
          }
          if (reply.pauseAfterDeltas === i + 1 && !resp.cancelled) {
            await new Promise<void>((r) => {
              resp.release = r;
              this.resumes.push(r);
            });
          }
          await new Promise((r) => setImmediate(r));
        }
        outputTokens += Math.ceil(item.audioMs! / 50);
        send({ type: 'response.output_audio.done', response_id: resp.id, item_id: itemId, output_index: 0, content_index: 0 });
        send({ type: 'response.output_audio_transcript.done', response_id: resp.id, item_id: itemId, output_index: 0, content_index: 0, transcript: item.text });
        const done = { id: itemId, type: 'message', role: 'assistant', status: resp.cancelled ? 'incomplete' : 'completed', content: [{ type: 'output_audio', transcript: item.text }] };
        send({ type: 'response.content_part.done', response_id: resp.id, item_id: itemId, output_index: 0, content_index: 0, part: done.content[0] });
        send({ type: 'response.output_item.done', response_id: resp.id, output_index: 0, item: done });
        output.push(done);
      }
      for (const call of resp.cancelled ? [] : reply.calls ?? []) {
        const itemId = this.id('item_f');
        const callId = this.id('call');
        const args = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments);
        c.items.push({ id: itemId, type: 'function_call', callId, name: call.name });
        const index = output.length;
        send({ type: 'response.output_item.added', response_id: resp.id, output_index: index, item: { id: itemId, type: 'function_call', status: 'in_progress', call_id: callId, name: call.name, arguments: '' } });
        send({ type: 'response.function_call_arguments.delta', response_id: resp.id, item_id: itemId, output_index: index, call_id: callId, delta: args });
        send({ type: 'response.function_call_arguments.done', response_id: resp.id, item_id: itemId, output_index: index, call_id: callId, name: call.name, arguments: args });
        const item = { id: itemId, type: 'function_call', status: 'completed', call_id: callId, name: call.name, arguments: args };
        send({ type: 'response.output_item.done', response_id: resp.id, output_index: index, item });
        output.push(item);
        outputTokens += 10;
      }
      if (active === resp) active = undefined;
      send({
        type: 'response.done',
        response: {
          id: resp.id,
          object: 'realtime.response',
          status: resp.cancelled ? 'cancelled' : 'completed',
          status_details: resp.cancelled ? { type: 'cancelled', reason: resp.reason } : null,
          output,
          usage: { total_tokens: 100 + outputTokens, input_tokens: 100, output_tokens: outputTokens, input_token_details: { text_tokens: 80, audio_tokens: 20, cached_tokens: 0 }, output_token_details: { text_tokens: 0, audio_tokens: outputTokens } },
        },
      });
    };

    // ---- client events ----
    const onClientEvent = (e: Record<string, any>) => {
      switch (e.type) {
        case 'session.update': {
          const s = e.session ?? {};
          if (s.type !== 'realtime') return fail('invalid_value', 'session.type must be realtime', 'session.type', e.event_id);
          const voice = s.audio?.output?.voice;
          if (voice !== undefined && !['alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'marin', 'cedar'].includes(voice)) {
            return fail('invalid_value', 'Invalid value for voice', 'session.audio.output.voice', e.event_id);
          }
          for (const dir of ['input', 'output'] as const) {
            const f = s.audio?.[dir]?.format?.type;
            if (f !== undefined && !['audio/pcm', 'audio/pcmu', 'audio/pcma'].includes(f)) return fail('invalid_value', 'Invalid audio format', `session.audio.${dir}.format.type`, e.event_id);
          }
          c.session = { ...c.session, ...s, audio: { input: { ...c.session.audio?.input, ...s.audio?.input }, output: { ...c.session.audio?.output, ...s.audio?.output } } };
          return send({ type: 'session.updated', session: c.session });
        }
        case 'input_audio_buffer.append':
          return onAudio(Buffer.from(String(e.audio ?? ''), 'base64'));
        case 'conversation.item.create': {
          const it = e.item ?? {};
          if (it.type === 'function_call_output' && !c.items.some((i) => i.type === 'function_call' && i.callId === it.call_id)) {
            return fail('invalid_value', 'No function call with that call_id', 'item.call_id', e.event_id);
          }
          const item: FakeItem = { id: it.id ?? this.id('item_c'), type: it.type, role: it.role, text: it.content?.map((p: { text?: string }) => p.text ?? '').join(''), callId: it.call_id, output: it.output };
          c.items.push(item);
          return send({ type: 'conversation.item.added', previous_item_id: c.items.at(-2)?.id ?? null, item: { ...it, id: item.id, status: 'completed' } });
        }
        case 'conversation.item.truncate': {
          const item = c.items.find((i) => i.id === e.item_id);
          if (!item || item.role !== 'assistant') return fail('invalid_value', 'No assistant audio item with that id', 'item_id', e.event_id);
          if (typeof e.audio_end_ms !== 'number' || e.audio_end_ms < 0 || e.audio_end_ms > (item.audioMs ?? 0)) {
            return fail('invalid_value', 'audio_end_ms is beyond the audio of the item', 'audio_end_ms', e.event_id);
          }
          item.truncatedAtMs = e.audio_end_ms;
          return send({ type: 'conversation.item.truncated', item_id: item.id, content_index: 0, audio_end_ms: e.audio_end_ms });
        }
        case 'response.create':
          if (active) return fail('conversation_already_has_active_response', 'Conversation already has an active response', null, e.event_id);
          {
            // A plain response.create right after the callee's speech answers it (the script sees what was heard).
            const last = c.items.at(-1);
            const spoken = !e.response?.instructions && last?.role === 'user' && last.transcribed && !last.answered ? last : undefined;
            if (spoken) spoken.answered = true;
            unawaited(respond({ trigger: 'response.create', instructions: e.response?.instructions }, spoken));
          }
          return;
        case 'response.cancel':
          if (!cancel('client_cancelled')) fail('response_cancel_not_active', 'Cancellation failed: no active response found', null, e.event_id);
          return;
        default:
          return fail('invalid_value', `Unknown event type ${String(e.type)}`, 'type', e.event_id);
      }
    };

    ws.on('message', (data) => {
      let e: Record<string, any>;
      try {
        e = JSON.parse(String(data)) as Record<string, any>;
      } catch {
        return fail('invalid_json', 'The message is not valid JSON', null);
      }
      c.received.push(e.type === 'input_audio_buffer.append' ? { type: e.type, bytes: Buffer.from(String(e.audio ?? ''), 'base64').length } : e);
      onClientEvent(e);
    });
    ws.on('close', () => {
      c.closed = true;
      clearTimeout(quiet);
      cancel('client_cancelled');
    });
    ws.on('error', () => undefined);
    send({ type: 'session.created', session: c.session });
  }
}

/** μ-law of a 440 Hz tone, `ms` long (what the fake "says" when no audio is given). */
export function tone(ms: number): Buffer {
  const n = Math.max(160, Math.round(ms * 8));
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
  return encodeMulaw(pcm);
}
