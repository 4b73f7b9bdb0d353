/**
 * Text frames read off a server WebSocket's TCP socket before `ws` (src/lib/ws-direct-text.ts): every message
 * arrives once and in order however the bytes are cut into reads, and whatever the direct reader leaves
 * (control frames, fragments, split frames, binary, invalid or oversized text) `ws` handles as it always did.
 */
import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import websocket from '@fastify/websocket';
import { WebSocket, WebSocketServer } from 'ws';
import { directFrameWriter, readTextFramesDirectly, textFrameHeaderLength, writeTextFrameHeader } from '../../src/lib/ws-direct-text.js';
import { closedAfterEach } from '../helpers/ws-servers.js';

type Got = { via: 'direct' | 'ws'; data: string; binary?: boolean };

/** A client frame (RFC 6455 §5.2): masked, with the given FIN bit and opcode. */
function frame(opcode: number, payload: Buffer, fin = true): Buffer {
  const mask = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | len]) : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i % 4]!;
  return Buffer.concat([head, mask, body]);
}
const text = (s: string, fin = true) => frame(0x1, Buffer.from(s), fin);

const servers = closedAfterEach();

/** A ws server (maxPayload 1 KiB) and a client connected to it; the server side reads text directly. */
async function connect(opts: { direct?: boolean } = {}) {
  const wss = new WebSocketServer({ port: 0, maxPayload: 1024 });
  servers.push(wss);
  await once(wss, 'listening');
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  await once(client, 'open');
  const [server] = await accepted;
  const got: Got[] = [];
  const errors: string[] = []; // ws reports a protocol error on the socket as it closes it
  server.on('error', (err) => errors.push((err as Error & { code?: string }).code ?? err.message));
  server.on('message', (data, isBinary) => got.push({ via: 'ws', data: String(data), ...(isBinary ? { binary: true } : {}) }));
  const undo = opts.direct === false ? undefined : readTextFramesDirectly(server, (chunk, start, end) => got.push({ via: 'direct', data: chunk.toString('utf8', start, end) }));
  const tcp = (server as unknown as { _socket: { emit(e: 'data', c: Buffer): void } })._socket;
  /** Hands `bytes` to the server as reads cut at `cuts` (what a TCP socket may deliver). */
  const feed = (sent: Buffer, cuts: number[] = []) => {
    const bytes = Buffer.from(sent); // a read's own buffer: the reader, like ws, unmasks in place
    let from = 0;
    for (const at of [...cuts, bytes.length]) {
      if (at > from) tcp.emit('data', bytes.subarray(from, at));
      from = at;
    }
  };
  return { wss, client, server, got, errors, undo, feed };
}

describe('readTextFramesDirectly', () => {
  it('reads whole text frames itself, several in one read, in order; short and 16-bit lengths', async () => {
    const { got, undo, feed } = await connect();
    expect(undo).toBeTypeOf('function');
    const long = 'x'.repeat(300);
    feed(Buffer.concat([text('one'), text(long), text('three')]));
    expect(got).toEqual([
      { via: 'direct', data: 'one' },
      { via: 'direct', data: long },
      { via: 'direct', data: 'three' },
    ]);
  });

  it('every message once and in order, however the bytes are cut into reads (ws takes the frames split across reads)', async () => {
    const { got, feed } = await connect();
    const messages = ['a', 'b'.repeat(130), '{"event":"media"}', 'd', 'é ✓ 😀', 'f'.repeat(125), 'g'];
    const bytes = Buffer.concat(messages.map((m) => text(m)));
    for (let cut = 1; cut < bytes.length; cut += 7) {
      got.length = 0;
      feed(bytes, [cut, Math.min(bytes.length, cut + 3), Math.min(bytes.length, cut + 151)]);
      expect(got.map((g) => g.data)).toEqual(messages);
    }
    // Whole frames at the start of a read are read directly; the reader does not give up for good after a split.
    got.length = 0;
    feed(bytes, [5]);
    feed(bytes);
    expect(got.slice(-messages.length).every((g) => g.via === 'direct')).toBe(true);
  });

  it('leaves pings, fragmented messages and binary frames to ws, which answers and assembles them in order', async () => {
    const { client, got, feed } = await connect();
    const pong = once(client, 'pong');
    feed(Buffer.concat([text('before'), frame(0x9, Buffer.from('hi')), text('par', false), frame(0x0, Buffer.from('tial')), frame(0x2, Buffer.from([1, 2])), text('after')]));
    expect(got).toEqual([
      { via: 'direct', data: 'before' },
      { via: 'ws', data: 'partial' },
      { via: 'ws', data: '\u0001\u0002', binary: true },
      { via: 'ws', data: 'after' },
    ]);
    expect(String((await pong)[0])).toBe('hi');
    feed(text('later'));
    expect(got.at(-1)).toEqual({ via: 'direct', data: 'later' });
  });

  it('text that is not UTF-8 goes to ws, which closes the socket with 1007; nothing of it is delivered', async () => {
    const { client, got, errors, feed } = await connect();
    const closed = once(client, 'close');
    feed(Buffer.concat([text('fine'), frame(0x1, Buffer.from([0x7b, 0xff, 0x7d]))]));
    expect((await closed)[0]).toBe(1007);
    expect(got).toEqual([{ via: 'direct', data: 'fine' }]);
    expect(errors).toEqual(['WS_ERR_INVALID_UTF8']);
  });

  it('a frame over maxPayload goes to ws, which closes the socket with 1009', async () => {
    const { client, got, errors, feed } = await connect();
    const closed = once(client, 'close');
    feed(text('y'.repeat(2000)));
    expect((await closed)[0]).toBe(1009);
    expect(got).toEqual([]);
    expect(errors).toEqual(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
  });

  it('over the network, and after undo every frame is ws’s again', async () => {
    const { client, got, undo } = await connect();
    client.send('net-1');
    client.send('net-2');
    await expect.poll(() => got.length).toBe(2);
    expect(got).toEqual([
      { via: 'direct', data: 'net-1' },
      { via: 'direct', data: 'net-2' },
    ]);
    undo!();
    client.send('net-3');
    await expect.poll(() => got.length).toBe(3);
    expect(got[2]).toEqual({ via: 'ws', data: 'net-3' });
  });

  it('over the network, reads come straight to it (no data event): ws still answers pings and assembles fragments, in order', async () => {
    const { client, server, got } = await connect();
    const tcp = (server as unknown as { _socket: { on(e: 'data', l: () => void): void } })._socket;
    let dataEvents = 0;
    tcp.on('data', () => dataEvents++);
    const pong = once(client, 'pong');
    client.send('one');
    client.ping();
    client.send('frag-', { fin: false });
    client.send('ment');
    await pong;
    await expect.poll(() => got.length).toBe(2);
    client.send('two'); // once ws holds nothing, the next frame is read directly again
    await expect.poll(() => got.length).toBe(3);
    expect(got).toEqual([
      { via: 'direct', data: 'one' },
      { via: 'ws', data: 'frag-ment' },
      { via: 'direct', data: 'two' },
    ]);
    expect(dataEvents).toBe(0);
  });

  it('sockets read at once each get their own messages, whole and in order (the read buffer is shared)', async () => {
    const a = await connect();
    const b = await connect();
    const sent = Array.from({ length: 200 }, (_, i) => `message ${i} ${'x'.repeat(i * 3)}`);
    for (const m of sent) {
      a.client.send(`a ${m}`);
      b.client.send(`b ${m}`);
    }
    await expect.poll(() => a.got.length + b.got.length).toBe(400);
    expect(a.got.map((g) => g.data)).toEqual(sent.map((m) => `a ${m}`));
    expect(b.got.map((g) => g.data)).toEqual(sent.map((m) => `b ${m}`));
  });

  it('takes the frames of a socket accepted as the server accepts Twilio’s (Fastify’s websocket plugin)', async () => {
    const app = Fastify();
    await app.register(websocket, { options: { maxPayload: 1024, perMessageDeflate: false } });
    const got: string[] = [];
    let installed = false;
    app.get('/media/ws', { websocket: true }, (socket) => {
      installed = !!readTextFramesDirectly(socket, (chunk, start, end) => got.push(chunk.toString('utf8', start, end)));
      socket.on('message', (data) => got.push(`ws:${String(data)}`));
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const client = new WebSocket(`ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/media/ws`);
      await once(client, 'open');
      await expect.poll(() => installed).toBe(true);
      client.send('{"event":"media"}');
      await expect.poll(() => got).toEqual(['{"event":"media"}']);
      client.terminate();
    } finally {
      await app.close();
    }
  });

  it('does nothing to a socket that is not ws’s own (no TCP socket under it)', () => {
    const fake = Object.assign(Object.create(WebSocket.prototype) as WebSocket, {});
    expect(readTextFramesDirectly(fake, () => undefined)).toBeUndefined();
  });
});

/** A server frame as `MediaMessages.mediaFrame` builds one: header and text in one buffer. */
function serverFrame(message: string): Buffer {
  const payload = Buffer.from(message);
  const at = textFrameHeaderLength(payload.length);
  const out = Buffer.alloc(at + payload.length);
  writeTextFrameHeader(out, payload.length);
  payload.copy(out, at);
  return out;
}

describe('directFrameWriter', () => {
  async function pair(serverOptions: ConstructorParameters<typeof WebSocketServer>[0] = {}, clientOptions: ConstructorParameters<typeof WebSocket>[2] = {}) {
    const wss = new WebSocketServer({ port: 0, ...serverOptions });
    servers.push(wss);
    await once(wss, 'listening');
    const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, clientOptions);
    const got: string[] = [];
    client.on('message', (data) => got.push(String(data)));
    await once(client, 'open');
    const [server] = await accepted;
    return { client, server, got };
  }

  it('writes whole frames the client reads as text, with 7-, 16- and 64-bit lengths, in order with ws.send', async () => {
    const { server, got } = await pair();
    const write = directFrameWriter(server);
    expect(write).toBeTypeOf('function');
    const long = 'x'.repeat(70_000);
    expect(write!(serverFrame('short'))).toBe(true);
    server.send('via ws');
    expect(write!(serverFrame('m'.repeat(300)))).toBe(true);
    expect(write!(serverFrame(long))).toBe(true);
    server.send('last');
    await expect.poll(() => got.length).toBe(5);
    expect(got).toEqual(['short', 'via ws', 'm'.repeat(300), long, 'last']);
  });

  it('declines while ws holds messages back (a Blob being read), so nothing overtakes them; and once the socket closes', async () => {
    const { server, client, got } = await pair();
    const write = directFrameWriter(server)!;
    server.send(new Blob(['from a blob']));
    expect(write(serverFrame('after the blob'))).toBe(false);
    server.send('after the blob');
    await expect.poll(() => got).toEqual(['from a blob', 'after the blob']);
    expect(write(serverFrame('now direct'))).toBe(true);
    await expect.poll(() => got.length).toBe(3);
    server.close();
    expect(write(serverFrame('too late'))).toBe(false);
    await once(client, 'close');
    expect(got).toEqual(['from a blob', 'after the blob', 'now direct']);
  });

  it('is not there when the socket compresses (permessage-deflate), nor for a socket that is not ws’s own', async () => {
    const { server } = await pair({ perMessageDeflate: true }, { perMessageDeflate: true });
    expect(server.extensions).toContain('permessage-deflate');
    expect(directFrameWriter(server)).toBeUndefined();
    const fake = Object.assign(Object.create(WebSocket.prototype) as WebSocket, {});
    expect(directFrameWriter(fake)).toBeUndefined();
  });

  it('takes a socket accepted as the server accepts Twilio’s (Fastify’s websocket plugin)', async () => {
    const app = Fastify();
    await app.register(websocket, { options: { maxPayload: 1024 } });
    let written = false;
    app.get('/media/ws', { websocket: true }, (socket) => {
      written = directFrameWriter(socket)?.(serverFrame('{"event":"media"}')) ?? false;
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const client = new WebSocket(`ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/media/ws`);
      const got: string[] = [];
      client.on('message', (data) => got.push(String(data)));
      await expect.poll(() => got).toEqual(['{"event":"media"}']);
      expect(written).toBe(true);
      client.terminate();
    } finally {
      await app.close();
    }
  });
});
