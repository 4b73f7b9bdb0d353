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
}

/**
 * A text message read directly: its UTF-8 bytes are `chunk[start, end)`, unmasked (the chunk is the socket's
 * read, which may hold other frames: use it before returning, and copy what is kept).
 */
export type OnText = (chunk: Buffer, start: number, end: number) => void;

/**
 * Reads `socket`'s simple text frames directly and hands each one to `onText`; `ws` reads the rest and emits them as `message` as usual. Returns the
 * function that gives every frame back to `ws`, or undefined when `ws`'s internals are not as this expects.
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

  const onData = (chunk: Buffer) => {
    let at = 0;
    if (betweenFrames(receiver)) at = readWholeTextFrames(chunk, maxPayload, onText);
    if (at < chunk.length && !receiver.write(at === 0 ? chunk : chunk.subarray(at))) tcp.pause();
  };
  tcp.removeListener('data', wsListener);
  tcp.on('data', onData);
  return () => {
    tcp.removeListener('data', onData);
    tcp.on('data', wsListener);
  };
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
 * Reads the simple text frames at the start of `chunk` (RFC 6455 §5.2), unmasking each in place; returns where
 * the first frame it leaves to `ws` starts (`chunk.length` when it read them all).
 */
function readWholeTextFrames(chunk: Buffer, maxPayload: number, onText: OnText): number {
  let at = 0;
  while (at + 2 <= chunk.length) {
    const b0 = chunk[at]!;
    const b1 = chunk[at + 1]!;
    // FIN set, RSV1-3 clear (no compression), a text frame, masked.
    if (b0 !== (0x80 | OPCODE_TEXT) || (b1 & 0x80) === 0) return at;
    let length = b1 & 0x7f;
    let head = 2;
    if (length === 127) return at; // 64-bit lengths: far above any message read here
    if (length === 126) {
      if (at + 4 > chunk.length) return at;
      length = chunk.readUInt16BE(at + 2);
      head = 4;
    }
    const start = at + head + 4;
    const end = start + length;
    if (end > chunk.length || length > maxPayload) return at;
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
