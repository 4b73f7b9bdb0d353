/**
 * The common case of a server WebSocket's inbound frames read straight off its TCP socket, before `ws`.
 *
 * Why our own code on `ws`'s own ground: a Twilio Media Streams socket carries one small text frame every 20 ms,
 * and at 100 calls `ws`'s receiver (a Writable stream that cuts every frame into header, length, mask and
 * payload buffers, then emits it) was ≈ 8 % of the node’s CPU and a fifth of everything it allocated
 * (docs/performance.md §21) — work that sets the rhythm of the garbage collector, whose pauses are the tail of a
 * turn's latency. So a frame that is whole in the chunk read, final, unfragmented, uncompressed, masked (as a
 * client's must be), text, and within `maxPayload` is unmasked in place and handed to `onText`; everything else
 * — a control frame (ping, pong, close), a fragment, a frame split across reads, a binary or oversized or
 * malformed frame — goes to `ws`'s receiver from that byte on, exactly as it would have, and `ws` keeps doing
 * all it does (the handshake, sending, pings, closing, its errors and limits). While the receiver holds part
 * of a frame or a fragmented message, every chunk goes to it.
 *
 * A text frame that is not UTF-8 goes to `ws` too (which closes the socket with 1007), so the caller sees only
 * what `ws` would have let through.
 *
 * It relies on `ws`'s socket listener and receiver fields (ws 8); when they are not as expected it does nothing
 * and says so (undefined), and `ws` reads every frame as before.
 */
import { isUtf8 } from 'node:buffer';
import type { WebSocket } from 'ws';

/** The receiver's state while between frames (ws/lib/receiver.js `GET_INFO`). */
const GET_INFO = 0;
const OPCODE_TEXT = 0x1;
const OPCODE_CLOSE = 0x8;

interface WsReceiver {
  write(chunk: Buffer): boolean;
  _state: number;
  _bufferedBytes: number;
  _fragmented: number;
  _opcode: number;
  _errored: boolean;
  _maxPayload: number;
  /** The Writable's own queue (a write waiting while the receiver works, e.g. inflating): bytes held. */
  writableLength: number;
}

interface TcpSocket {
  listeners(event: 'data'): Array<(chunk: Buffer) => void>;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  removeListener(event: 'data', listener: (chunk: Buffer) => void): unknown;
  pause(): unknown;
  readableLength: number;
  _handle?: { useUserBuffer?: (buf: Uint8Array) => void; constructor?: { name?: string } } | null;
}

/**
 * A text message read directly: its UTF-8 bytes are `chunk[start, end)`, unmasked (the chunk is the socket's
 * read, which may hold other frames and is reused for the next read: use it before returning, and copy what is
 * kept).
 */
export type OnText = (chunk: Buffer, start: number, end: number) => void;

/**
 * Reads `socket`'s simple text frames directly and hands each one to `onText`; `ws` reads the rest and emits
 * them as `message` as usual. Returns the function that gives every frame back to `ws`, or undefined when `ws`'s
 * internals are not as this expects.
 *
 * Where it can, it also takes the socket's reads from Node itself (`readsIntoSharedBuffer`): each read lands in
 * one buffer shared by every such socket and comes straight to this code, with none of the stream machinery
 * Node runs for a read that goes to a `data` event (a buffer object, the stream's queue checks, a tick scheduled
 * to read more and the tick queue drained after it, each with its own allocations): at 100 calls that was a
 * quarter of everything the node allocated (docs/performance.md §22). Otherwise reads come as `data` events.
 */
export function readTextFramesDirectly(socket: WebSocket, onText: OnText): (() => void) | undefined {
  const internals = socket as unknown as { _socket?: TcpSocket; _receiver?: WsReceiver };
  const tcp = internals._socket;
  const receiver = internals._receiver;
  if (!tcp || !receiver || !isReceiver(receiver)) return undefined;
  // ws's own listener (`socketOnData`), which feeds its receiver: the socket's only one once ws has it.
  const listeners = tcp.listeners('data');
  if (listeners.length !== 1) return undefined;
  const wsListener = listeners[0]!;
  const maxPayload = receiver._maxPayload > 0 ? receiver._maxPayload : Infinity;
  let direct = true;

  /** One read, `chunk[0, end)`; `reused`: the chunk is the shared buffer, so what ws keeps must be a copy. */
  const onRead = (chunk: Buffer, end: number, reused: boolean) => {
    let at = 0;
    if (direct && betweenFrames(receiver)) at = readWholeTextFrames(chunk, end, maxPayload, onText);
    if (at === end) return;
    const rest = reused ? Buffer.from(chunk.subarray(at, end)) : at === 0 && end === chunk.length ? chunk : chunk.subarray(at, end);
    if (!receiver.write(rest)) tcp.pause();
  };
  const onData = (chunk: Buffer) => onRead(chunk, chunk.length, false);
  tcp.removeListener('data', wsListener);
  tcp.on('data', onData);
  readsIntoSharedBuffer(tcp, (nread, buf) => onRead(buf, nread, true));
  return () => {
    direct = false;
    tcp.removeListener('data', onData);
    tcp.on('data', wsListener);
  };
}

/** The buffer every socket taken by `readsIntoSharedBuffer` reads into (64 KiB: as much as libuv reads at once). */
let sharedReadBuffer: Buffer | undefined;

/**
 * Makes Node hand `socket`'s reads to `onRead(nread, buffer)` instead of pushing them through its stream
 * (what `net.Socket`'s `onread` option does for a socket it connects; an accepted socket has no such option,
 * so it is set as that option sets it). The end of the stream, errors, `pause` and `resume` work as before.
 * Why one buffer for all: a read is handed over before the next one is made, on this one thread, and
 * `onRead` copies whatever it keeps. Only a plain TCP socket (not TLS), and only where Node's socket has the
 * fields this relies on (Node 20–24's `net`); returns whether it took the socket.
 */
function readsIntoSharedBuffer(socket: TcpSocket, onRead: (nread: number, buf: Buffer) => void): boolean {
  const handle = socket._handle;
  if (!handle || handle.constructor?.name !== 'TCP' || typeof handle.useUserBuffer !== 'function') return false;
  // Bytes already in the stream's queue (a paused socket) would come after later reads: leave such a socket be.
  if (socket.readableLength !== 0) return false;
  const fields = socket as unknown as Record<symbol, unknown>;
  let bufferField: symbol | undefined;
  let callbackField: symbol | undefined;
  for (const field of Object.getOwnPropertySymbols(socket)) {
    if (field.description === 'kBuffer') bufferField = field;
    else if (field.description === 'kBufferCb') callbackField = field;
  }
  if (!bufferField || !callbackField || fields[bufferField] !== null || fields[callbackField] !== null) return false;
  sharedReadBuffer ??= Buffer.allocUnsafe(64 * 1024);
  fields[bufferField] = sharedReadBuffer;
  fields[callbackField] = onRead;
  handle.useUserBuffer(sharedReadBuffer);
  return true;
}

function isReceiver(r: WsReceiver): boolean {
  return (
    typeof r.write === 'function' &&
    typeof r._state === 'number' &&
    typeof r._bufferedBytes === 'number' &&
    typeof r._fragmented === 'number' &&
    typeof r._opcode === 'number' &&
    typeof r._maxPayload === 'number'
  );
}

/** Whether the receiver holds nothing: the next byte starts a frame, and it may be read here. */
function betweenFrames(r: WsReceiver): boolean {
  return (
    r._state === GET_INFO &&
    r._bufferedBytes === 0 &&
    r.writableLength === 0 &&
    r._fragmented === 0 &&
    r._opcode !== OPCODE_CLOSE &&
    !r._errored
  );
}

/**
 * Reads the simple text frames at the start of `chunk[0, length)` (RFC 6455 §5.2), unmasking each in place; returns
 * where the first frame it leaves to `ws` starts (`length` when it read them all).
 */
function readWholeTextFrames(chunk: Buffer, length: number, maxPayload: number, onText: OnText): number {
  let at = 0;
  while (at + 2 <= length) {
    const b0 = chunk[at]!;
    const b1 = chunk[at + 1]!;
    // FIN set, RSV1-3 clear (no compression), a text frame, masked.
    if (b0 !== (0x80 | OPCODE_TEXT) || (b1 & 0x80) === 0) return at;
    let size = b1 & 0x7f;
    let head = 2;
    if (size === 127) return at; // 64-bit lengths: far above any message read here
    if (size === 126) {
      if (at + 4 > length) return at;
      size = chunk.readUInt16BE(at + 2);
      head = 4;
    }
    const start = at + head + 4;
    const end = start + size;
    if (end > length || size > maxPayload) return at;
    const ascii = unmask(chunk, start - 4, start, end) < 0x80;
    if (!ascii && !isUtf8(chunk.subarray(start, end))) {
      unmask(chunk, start - 4, start, end); // as it came: ws reads it, and closes the socket with 1007
      return at;
    }
    onText(chunk, start, end);
    at = end;
  }
  return at;
}

/**
 * XORs chunk[start, end) with the 4-byte mask at chunk[maskAt]; returns the OR of the bytes it made, which is
 * below 0x80 when they are all ASCII (then valid UTF-8 with no further look).
 */
function unmask(chunk: Buffer, maskAt: number, start: number, end: number): number {
  const m0 = chunk[maskAt]!;
  const m1 = chunk[maskAt + 1]!;
  const m2 = chunk[maskAt + 2]!;
  const m3 = chunk[maskAt + 3]!;
  let seen = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    seen |= chunk[i] = chunk[i]! ^ m0;
    seen |= chunk[i + 1] = chunk[i + 1]! ^ m1;
    seen |= chunk[i + 2] = chunk[i + 2]! ^ m2;
    seen |= chunk[i + 3] = chunk[i + 3]! ^ m3;
  }
  for (let k = 0; i < end; i++, k++) seen |= chunk[i] = chunk[i]! ^ chunk[maskAt + k]!;
  return seen;
}

// ---- writing ---------------------------------------------------------------------------------------------

interface WsSender {
  /** ws/lib/sender.js `DEFAULT` (0) unless it is compressing a message or reading a Blob's bytes. */
  _state: number;
  /** Sends waiting for that to end. */
  _queue: unknown[];
}

interface WritableTcp {
  write(chunk: Buffer): boolean;
  writable: boolean;
}

/** Bytes of a server frame's header (unmasked) for a payload of `length` bytes (RFC 6455 §5.2). */
export function textFrameHeaderLength(length: number): number {
  return length < 126 ? 2 : length < 0x10000 ? 4 : 10;
}

/**
 * Writes at `buf[0]` the header of a final, uncompressed, unmasked text frame (a server's) carrying `length`
 * bytes; the payload goes right after it (`textFrameHeaderLength(length)`).
 */
export function writeTextFrameHeader(buf: Buffer, length: number): void {
  buf[0] = 0x80 | OPCODE_TEXT;
  if (length < 126) {
    buf[1] = length;
  } else if (length < 0x10000) {
    buf[1] = 126;
    buf.writeUInt16BE(length, 2);
  } else {
    buf[1] = 127;
    buf.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    buf.writeUInt32BE(length >>> 0, 6);
  }
}

/**
 * Writes a whole frame (made with `writeTextFrameHeader`) to the TCP socket; false when it did not, and the
 * message must go through `ws.send` (the socket not open, or `ws`'s sender holding messages back).
 */
export type DirectFrameWriter = (frame: Buffer) => boolean;

/**
 * The outbound half: a writer of frames built by the caller, for a server WebSocket's messages that go out many
 * times a second (Twilio's `media`). Why: `ws.send` of a text copies it to a buffer, then cuts the frame's header
 * into another, with an options object and a list per message — at 100 calls, with the JSON made by
 * concatenation first, a tenth of what the node allocated (docs/performance.md §22); built in one buffer, the
 * message costs one allocation and the same single socket write.
 *
 * Safe beside `ws.send` on the same socket: with no extension negotiated (`ws.extensions` empty, so nothing is
 * compressed) `ws` writes each frame whole to the socket at once, so frames written here and there never mix,
 * and go in the order they were sent. While `ws`'s sender holds messages back (it does so only to compress one
 * or to read a Blob), the writer declines, so that nothing overtakes them. Undefined when there is an
 * extension or `ws`'s internals are not as expected (ws 8).
 */
export function directFrameWriter(socket: WebSocket): DirectFrameWriter | undefined {
  const internals = socket as unknown as { _socket?: WritableTcp; _sender?: WsSender };
  const tcp = internals._socket;
  const sender = internals._sender;
  if (!tcp || typeof tcp.write !== 'function' || !sender || typeof sender._state !== 'number' || !Array.isArray(sender._queue)) return undefined;
  if (socket.extensions !== '') return undefined;
  return (frame) => {
    if (socket.readyState !== socket.OPEN || sender._state !== 0 || sender._queue.length > 0 || !tcp.writable) return false;
    tcp.write(frame);
    return true;
  };
}
