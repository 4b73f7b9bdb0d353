import { describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { TwilioMediaStream, mediaStreamToken, isValidMediaStreamToken } from '../../src/carriers/twilio/media-stream.js';
import { encodeMulaw } from '../../src/carriers/twilio/mulaw.js';
import { FakeMediaStreamClient } from '../fakes/twilio/media-stream-client.js';
import { closedAfterEach } from '../helpers/ws-servers.js';

const SECRET = 'stream-secret';

/** A 440 Hz tone, `ms` long, as μ-law 8 kHz. */
function tone(ms: number, hz = 440): Buffer {
  const n = (ms * 8000) / 1000;
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000));
  return encodeMulaw(pcm);
}

const servers = closedAfterEach();

/** A local ws server hosting one TwilioMediaStream per connection. */
async function host(startTimeoutMs?: number) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(wss);
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const streams: TwilioMediaStream[] = [];
  /** How many messages ws itself emitted on the server's socket (those not read off it directly). */
  const wsMessages: string[] = [];
  wss.on('connection', (socket) => {
    socket.on('message', (data) => wsMessages.push(String(data)));
    streams.push(new TwilioMediaStream({ socket, secret: SECRET, startTimeoutMs }));
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/media/ws`;
  const next = async () => {
    for (let i = 0; i < 200 && streams.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    return streams[0];
  };
  return { url, next, wsMessages };
}

async function connected(opts: { holdMarks?: boolean; token?: string } = {}) {
  const { url, next, wsMessages } = await host();
  const client = await FakeMediaStreamClient.connect({
    url,
    holdMarks: opts.holdMarks,
    customParameters: { callId: 'call_123', token: opts.token ?? mediaStreamToken(SECRET, 'call_123'), persona: 'receptionist' },
  });
  const stream = await next();
  client.start();
  return { client, stream, wsMessages };
}

describe('Twilio Media Streams transport', () => {
  it('stream tokens: valid for their call only', () => {
    const t = mediaStreamToken(SECRET, 'call_1');
    expect(isValidMediaStreamToken(SECRET, 'call_1', t)).toBe(true);
    expect(isValidMediaStreamToken(SECRET, 'call_2', t)).toBe(false);
    expect(isValidMediaStreamToken('other', 'call_1', t)).toBe(false);
    expect(isValidMediaStreamToken(SECRET, 'call_1', undefined)).toBe(false);
  });

  it('a start with a valid token is accepted and inbound frames arrive in order, ending at stop', async () => {
    const { client, stream } = await connected();
    const start = await stream.ready;
    expect(start).toMatchObject({
      callId: 'call_123',
      streamSid: client.streamSid,
      callSid: client.callSid,
      tracks: ['inbound'],
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    });
    expect(start.customParameters.persona).toBe('receptionist');
    const audio = tone(200); // 10 frames
    client.speak(audio);
    client.stop();
    const frames: Buffer[] = [];
    for await (const f of stream.frames()) frames.push(f);
    expect(frames).toHaveLength(10);
    expect(frames.every((f) => f.length === 160)).toBe(true);
    expect(Buffer.concat(frames).equals(audio)).toBe(true);
    expect(stream.isClosed).toBe(true);
  });

  it('after a verified start its frames are read off the socket before ws (docs/performance.md §21): media, dtmf and stop all arrive', async () => {
    const { client, stream, wsMessages } = await connected();
    await stream.ready;
    expect(wsMessages.map((m) => JSON.parse(m).event)).toEqual(['connected', 'start']);
    const digits: string[] = [];
    stream.on('dtmf', (d) => digits.push(d));
    const audio = tone(100);
    client.speak(audio);
    client.dtmf('5');
    client.stop();
    const frames: Buffer[] = [];
    for await (const f of stream.frames()) frames.push(f);
    expect(Buffer.concat(frames).equals(audio)).toBe(true);
    expect(digits).toEqual(['5']);
    expect(stream.isClosed).toBe(true);
    expect(wsMessages).toHaveLength(2); // ws emitted none of them
  });

  it('a repeated chunk is dropped', async () => {
    const { client, stream } = await connected();
    await stream.ready;
    const payload = (b: number) => Buffer.alloc(160, b).toString('base64');
    for (const [chunk, b] of [[1, 1], [2, 2], [2, 2], [1, 1], [3, 3]] as const) {
      client.send({ event: 'media', streamSid: client.streamSid, media: { track: 'inbound', chunk: String(chunk), timestamp: String(chunk * 20), payload: payload(b) } });
    }
    client.stop();
    const firsts: number[] = [];
    for await (const f of stream.frames()) firsts.push(f[0]);
    expect(firsts).toEqual([1, 2, 3]);
  });

  it('media messages of an unexpected shape (numbers, escapes, new nested fields) still arrive, read by JSON.parse; another stream’s are dropped', async () => {
    const { client, stream } = await connected();
    await stream.ready;
    const payload = (b: number) => Buffer.alloc(160, b).toString('base64');
    const sid = client.streamSid;
    client.send({ event: 'media', streamSid: sid, media: { track: 'inbound', chunk: '1', timestamp: '20', payload: payload(1) } });
    client.send({ event: 'media', sequenceNumber: 7, streamSid: sid, media: { track: 'inbound', chunk: 2, payload: payload(2) } });
    client.send({ event: 'media', streamSid: sid, media: { track: 'inbound', chunk: '3', payload: payload(3), note: 'say \"hi\"' } });
    client.send({ event: 'media', streamSid: sid, flags: ['x'], media: { track: 'inbound', chunk: '4', payload: payload(4) } });
    client.send({ event: 'media', streamSid: 'MZother', media: { track: 'inbound', chunk: '5', payload: payload(5) } });
    client.send({ event: 'media', streamSid: sid, media: { chunk: '6', payload: payload(6) } }); // no track: inbound
    client.send({ event: 'media', streamSid: sid, media: { track: 'outbound', chunk: '7', payload: payload(7) } }); // not ours to hear
    client.stop();
    const firsts: number[] = [];
    for await (const f of stream.frames()) firsts.push(f[0]);
    expect(firsts).toEqual([1, 2, 3, 4, 6]);
  });

  it('messages that are not Twilio\'s (JSON null, arrays, numbers, fields of the wrong type) are ignored, before and after start: the stream goes on', async () => {
    const { client, stream } = await connected();
    const hostile = ['null', '[]', '1', '"media"', 'true', '{"event":null}', '{"event":"media"}', '{"event":"media","media":null}', '{"event":"media","media":{"payload":5}}', '{"event":"media","media":[]}', '{"event":"dtmf","dtmf":"5"}', '{"event":"dtmf","dtmf":null}', '{"event":"mark","mark":null}', '{"event":"mark"}', '{"event":"start","start":null}', '{"event":"connected"'];
    // Before the start (the fake has sent `connected` only once start() is called: these go after it, before `start`
    // is read on a new socket below) and after it.
    const { url, next } = await host();
    const early = await FakeMediaStreamClient.connect({ url, customParameters: { callId: 'call_9', token: mediaStreamToken(SECRET, 'call_9') } });
    const earlyStream = await next();
    for (const raw of hostile.filter((m) => !m.includes('"event"'))) early.socket.send(raw);
    early.start();
    expect((await earlyStream.ready).callId).toBe('call_9');
    await stream.ready;
    const payload = (b: number) => Buffer.alloc(160, b).toString('base64');
    client.send({ event: 'media', streamSid: client.streamSid, media: { track: 'inbound', chunk: '1', payload: payload(1) } });
    for (const raw of hostile) client.socket.send(raw);
    client.send({ event: 'media', streamSid: client.streamSid, media: { track: 'inbound', chunk: '2', payload: payload(2) } });
    client.stop();
    const firsts: number[] = [];
    for await (const f of stream.frames()) firsts.push(f[0]);
    expect(firsts).toEqual([1, 2]);
    expect((await client.closed).code).toBe(1000); // closed by our side at `stop`, not for a bad message
  });

  it('dtmf arrives as an event', async () => {
    const { client, stream } = await connected();
    await stream.ready;
    const digits: string[] = [];
    stream.on('dtmf', (d) => digits.push(d));
    client.dtmf('4');
    client.dtmf('#');
    await new Promise<void>((r) => setTimeout(r, 50));
    expect(digits).toEqual(['4', '#']);
  });

  it('outbound audio goes out as media messages of up to 80 ms (640 bytes) with the streamSid; a mark resolves when echoed', async () => {
    const { client, stream } = await connected();
    await stream.ready;
    // What goes through ws's own send: nothing, media and marks are written whole to the socket (src/lib/ws-direct-text.ts).
    const socket = (stream as unknown as { o: { socket: { send(data: unknown, ...rest: unknown[]): void } } }).o.socket;
    const viaWs: string[] = [];
    const wsSend = socket.send.bind(socket);
    socket.send = (data, ...rest) => {
      viaWs.push(JSON.parse(String(data)).event);
      wsSend(data, ...rest);
    };
    const audio = tone(110); // 880 bytes: 640 + 240
    stream.send(audio);
    const result = await stream.mark('utt-1');
    expect(result).toEqual({ name: 'utt-1', played: true });
    const media = client.received.filter((m) => m.event === 'media');
    expect(media.map((m) => Buffer.from(m.media.payload, 'base64').length)).toEqual([640, 240]);
    expect(media.every((m) => m.streamSid === client.streamSid)).toBe(true);
    expect(client.played.equals(audio)).toBe(true);
    expect(client.received.find((m) => m.event === 'mark')).toEqual({ event: 'mark', streamSid: client.streamSid, mark: { name: 'utt-1' } });
    expect(stream.sentBytes).toBe(880);
    expect(stream.playedBytes).toBe(880);
    expect(stream.unplayedMs).toBe(0);
    expect(viaWs).toEqual([]);
  });

  it('sendMarked: a media message and its progress mark leave in one socket write, and arrive as the two messages', async () => {
    const { client, stream } = await connected();
    await stream.ready;
    // Count the writes of the TCP socket under the server's WebSocket (one system call each).
    const raw = (stream as unknown as { o: { socket: { _socket: { _write: unknown; _writev: unknown } } } }).o.socket._socket;
    let writes = 0;
    for (const method of ['_write', '_writev'] as const) {
      const original = raw[method] as (...args: unknown[]) => unknown;
      raw[method] = function (this: unknown, ...args: unknown[]) {
        writes++;
        return original.apply(this, args);
      };
    }
    const audio = tone(80);
    stream.sendMarked(audio, 'sent-1');
    expect(writes).toBe(1);
    stream.send(audio);
    stream.progressMark('sent-2');
    expect(writes).toBe(3); // the same two messages apart: a write each
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'sent-2');
    expect(client.received.filter((m) => m.event !== 'connected').map((m) => (m.event === 'mark' ? m.mark.name : m.event))).toEqual(['media', 'sent-1', 'media', 'sent-2']);
    for (let i = 0; i < 400 && stream.playedBytes < 1280; i++) await new Promise((r) => setTimeout(r, 5));
    expect(stream.playedBytes).toBe(1280); // both marks echoed: all of it heard
    expect(client.played.equals(Buffer.concat([audio, audio]))).toBe(true);
  });

  it('audio sent minus marks acknowledged tells what was heard; clear sends clear and resolves pending marks', async () => {
    const { client, stream } = await connected({ holdMarks: true });
    await stream.ready;
    stream.send(tone(100));
    const first = stream.mark('utt-1');
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'utt-1');
    client.playOut(); // Twilio plays the first utterance
    expect(await first).toEqual({ name: 'utt-1', played: true });
    stream.send(tone(200));
    const second = stream.mark('utt-2');
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'utt-2');
    expect(stream.playedBytes).toBe(800);
    expect(stream.unplayedMs).toBe(200);
    const dropped = stream.clear(); // barge-in
    expect(dropped).toBe(200);
    expect(await second).toEqual({ name: 'utt-2', played: false });
    const clear = await client.waitFor((m) => m.event === 'clear');
    expect(clear).toEqual({ event: 'clear', streamSid: client.streamSid });
    expect(stream.unplayedMs).toBe(0);
    expect(stream.sentBytes).toBe(800);
    // the echo Twilio sends for the cleared mark is ignored
    await new Promise<void>((r) => setTimeout(r, 30));
    expect(stream.playedBytes).toBe(800);
  });

  it('a bad token closes the stream before any audio is accepted', async () => {
    const { client, stream } = await connected({ token: mediaStreamToken('wrong-secret', 'call_123') });
    await expect(stream.ready).rejects.toThrow(/bad token/);
    client.speak(tone(40));
    const { code } = await client.closed;
    expect(code).toBe(1008);
    const frames: Buffer[] = [];
    for await (const f of stream.frames()) frames.push(f);
    expect(frames).toEqual([]);
  });

  it('a missing token, or audio before start, closes the stream', async () => {
    const { url, next } = await host();
    const a = await FakeMediaStreamClient.connect({ url, customParameters: { callId: 'call_123' } });
    const sa = await next();
    a.start();
    await expect(sa.ready).rejects.toThrow(/missing token/);
    expect((await a.closed).code).toBe(1008);

    const h2 = await host();
    const b = await FakeMediaStreamClient.connect({ url: h2.url, customParameters: {} });
    const sb = await h2.next();
    b.speak(tone(20));
    await expect(sb.ready).rejects.toThrow(/before start/);
    expect((await b.closed).code).toBe(1008);
  });

  it('a stream that never starts is closed after the timeout', async () => {
    const { url, next } = await host(50);
    const c = await FakeMediaStreamClient.connect({ url, customParameters: {} });
    const s = await next();
    await expect(s.ready).rejects.toThrow(/no start/);
    expect((await c.closed).code).toBe(1008);
  });
});
