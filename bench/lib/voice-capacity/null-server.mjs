/**
 * The voice capacity bench's null server (`BENCH_SERVER=null`): the same wires as Switchboard's audio call and
 * nothing between them, to measure what the host itself costs a turn and a call. Started where Switchboard's
 * server would be (pinned to its core, the same environment), it answers the bench's `POST /v1/start-call` by
 * creating the call at the Twilio fake, hands out `<Connect><Stream>`, and for each Media Streams socket:
 * forwards the callee's audio to the Deepgram fake (100 ms a message, as Switchboard chunks it), sends the
 * model the final transcript (a streamed chat completion), sends each clause of the answer to the ElevenLabs
 * fake, and paces the μ-law back as Switchboard does on Twilio (80 ms messages each with a mark, 120 ms ahead
 * of real time, the first at once; one timer for every call).
 *
 * What it leaves out is everything Switchboard does besides: the store, the call's records and events, the
 * voice activity detector, turn-taking and barge-in, the brain's prompt and tools, metrics, logs. A turn here
 * costs the two processes' wake-ups and the loopback's round trips: "the time Switchboard adds" on this host
 * can be no lower than this server's (docs/performance.md §25).
 *
 * Plain JavaScript, run by `node` as it is: no build, no loader on the measured path.
 */
import http from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';

const env = process.env;
const PORT = Number(env.PORT);
const PUBLIC = `http://127.0.0.1:${PORT}`;
const ENDPOINTING_MS = Number(env.VOICE_ENDPOINTING_MS ?? 500);
const STT_CHUNK_BYTES = 800; // 100 ms of μ-law
const OUT_FRAME_BYTES = 640; // 80 ms: Twilio's outbound message (media-stream-channel.ts)
const LEAD_BYTES = 960; // 120 ms ahead of real time (the same)
const TICK_MS = 20;
const CLAUSE_END = /[,.;:!?](?=\s|$)/;

const agent = new http.Agent({ keepAlive: true, timeout: 60_000 });

/** POST with a body; resolves with the response (its body unread). */
function post(url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, resolve);
    req.on('error', reject);
    req.end(body);
  });
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString();
}

let calls = 0;

async function startCall(req, res) {
  const body = JSON.parse(await readBody(req));
  const auth = 'Basic ' + Buffer.from(`${env.TWILIO_ACCOUNT_SID}:${env.TWILIO_AUTH_TOKEN}`).toString('base64');
  const form = new URLSearchParams({ To: body.phone_number, From: env.TWILIO_FROM_NUMBER, Url: `${PUBLIC}/twiml/${++calls}` }).toString();
  const r = await post(`${env.TWILIO_API_BASE_URL}/2010-04-01/Accounts/${env.TWILIO_ACCOUNT_SID}/Calls.json`, { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, form);
  const created = JSON.parse(await readBody(r));
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ success: true, sid: created.sid }));
}

function twiml(req, res) {
  req.resume();
  const id = (req.url ?? '').split('/').pop();
  res.writeHead(200, { 'content-type': 'text/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="ws://127.0.0.1:${PORT}/media"><Parameter name="callId" value="null-${id}"/></Stream></Connect></Response>`);
}

const server = http.createServer((req, res) => {
  const route = req.method + ' ' + (req.url ?? '').split('?')[0];
  const fail = (err) => res.headersSent || res.writeHead(500).end(String(err));
  if (route === 'GET /healthz') return void res.writeHead(200).end('ok');
  if (route === 'POST /v1/start-call') return void startCall(req, res).catch(fail);
  if (route.startsWith('POST /twiml/')) return twiml(req, res);
  req.resume();
  res.writeHead(404).end();
});
server.keepAliveTimeout = 120_000;

/** Every call with audio to send: the one timer visits these. */
const playing = new Set();

class Call {
  constructor(ws) {
    this.ws = ws;
    this.streamSid = '';
    this.stt = undefined;
    this.chunk = Buffer.alloc(STT_CHUNK_BYTES);
    this.chunkUsed = 0;
    this.out = [];
    this.outBytes = 0;
    this.sentBytes = 0;
    this.startedAt = 0;
    this.marks = 0;
    this.synthesis = Promise.resolve();
    ws.on('message', (data) => this.onMessage(data));
    ws.on('close', () => this.close());
  }

  onMessage(data) {
    const m = JSON.parse(data.toString());
    if (m.event === 'start') return this.start(m.start.streamSid);
    if (m.event !== 'media' || !this.stt) return;
    const frame = Buffer.from(m.media.payload, 'base64');
    frame.copy(this.chunk, this.chunkUsed);
    this.chunkUsed += frame.length;
    if (this.chunkUsed >= STT_CHUNK_BYTES) {
      if (this.stt.readyState === WebSocket.OPEN) this.stt.send(this.chunk.subarray(0, this.chunkUsed));
      this.chunk = Buffer.alloc(STT_CHUNK_BYTES);
      this.chunkUsed = 0;
    }
  }

  start(streamSid) {
    this.streamSid = streamSid;
    const q = new URLSearchParams({ model: 'nova-3', encoding: 'mulaw', sample_rate: '8000', channels: '1', endpointing: String(ENDPOINTING_MS), interim_results: 'false' });
    this.stt = new WebSocket(`${env.DEEPGRAM_BASE_URL.replace(/^http/, 'ws')}/v1/listen?${q}`, { headers: { authorization: `Token ${env.DEEPGRAM_API_KEY}` }, perMessageDeflate: false });
    this.stt.on('error', () => undefined);
    this.stt.on('message', (data) => {
      const m = JSON.parse(data.toString());
      const text = m.channel?.alternatives?.[0]?.transcript ?? '';
      if (m.type === 'Results' && m.speech_final && text) this.reply(text).catch(() => undefined);
    });
  }

  /** The model's answer, each clause to the synthesis as soon as it is whole. */
  async reply(text) {
    const body = JSON.stringify({ model: env.LLM_MODEL, stream: true, messages: [{ role: 'user', content: text }] });
    const res = await post(`${env.LLM_BASE_URL}/chat/completions`, { authorization: `Bearer ${env.LLM_API_KEY}`, 'content-type': 'application/json' }, body);
    let pending = '';
    let said = '';
    for await (const chunk of res) {
      pending += chunk.toString();
      let nl;
      while ((nl = pending.indexOf('\n\n')) >= 0) {
        const event = pending.slice(0, nl);
        pending = pending.slice(nl + 2);
        if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
        said += JSON.parse(event.slice(6)).choices?.[0]?.delta?.content ?? '';
        const end = said.search(CLAUSE_END);
        if (end >= 0) {
          this.speak(said.slice(0, end + 1).trim());
          said = said.slice(end + 1);
        }
      }
    }
    if (said.trim()) this.speak(said.trim());
  }

  /** One clause's synthesis, after the clauses before it. */
  speak(text) {
    const body = JSON.stringify({ text, model_id: 'eleven_flash_v2_5' });
    this.synthesis = this.synthesis.then(async () => {
      const res = await post(`${env.ELEVENLABS_BASE_URL}/v1/text-to-speech/null/stream?output_format=ulaw_8000`, { 'xi-api-key': env.ELEVENLABS_API_KEY, 'content-type': 'application/json' }, body);
      for await (const audio of res) this.enqueue(audio);
    }).catch(() => undefined);
  }

  enqueue(audio) {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const now = performance.now();
    // Idle (everything sent has played): real time starts again from now.
    if (!playing.has(this) && now - this.startedAt >= this.sentBytes / 8) {
      this.startedAt = now;
      this.sentBytes = 0;
    }
    this.out.push(audio);
    this.outBytes += audio.length;
    playing.add(this);
    this.fill(now);
  }

  /** Sends 80 ms messages until Twilio holds 120 ms more than real time has played. */
  fill(now) {
    const played = (now - this.startedAt) * 8;
    while (this.outBytes >= OUT_FRAME_BYTES && this.sentBytes < played + LEAD_BYTES) this.send(OUT_FRAME_BYTES);
    if (!this.outBytes) playing.delete(this);
  }

  send(n) {
    const frame = Buffer.concat(this.out, this.outBytes);
    this.out = frame.length > n ? [frame.subarray(n)] : [];
    this.outBytes = frame.length - n;
    this.sentBytes += n;
    this.ws.send(JSON.stringify({ event: 'media', streamSid: this.streamSid, media: { payload: frame.subarray(0, n).toString('base64') } }));
    this.ws.send(JSON.stringify({ event: 'mark', streamSid: this.streamSid, mark: { name: String(++this.marks) } }));
  }

  close() {
    playing.delete(this);
    this.stt?.close();
  }
}

const media = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on('upgrade', (req, socket, head) => {
  if (!(req.url ?? '').startsWith('/media')) return socket.destroy();
  media.handleUpgrade(req, socket, head, (ws) => new Call(ws));
});

setInterval(() => {
  const now = performance.now();
  for (const call of playing) {
    // The synthesis' last piece, shorter than a message, goes once the cushion is down to one message.
    if (call.outBytes && call.outBytes < OUT_FRAME_BYTES && call.sentBytes < (now - call.startedAt) * 8 + OUT_FRAME_BYTES) call.send(call.outBytes);
    call.fill(now);
  }
}, TICK_MS);

server.listen(PORT, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
