/**
 * Twilio's callbacks in a cluster. Twilio sends a call's callbacks, and opens its relay socket, wherever the
 * load balancer points; but a live call is known only to the node whose session carries it (the node that
 * placed or answered it). A node that gets something for a call it does not know passes it on over the bus:
 * every node listens on `twilio.forward` and the one that knows the call acts. Status callbacks and
 * caller-ID results are passed on as they are; the TwiML request waits for the owner's answer; the relay
 * socket stays on the node Twilio reached and is bridged message by message to the owner, where the call's
 * channel sees an ordinary socket.
 *
 * Used only with Redis (several nodes); a single node knows all its calls.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Bus } from '../../bus/bus.js';
import type { Logger } from '../../lib/logger.js';
import { background } from '../../lib/background.js';
import type { TwilioCarrier } from './twilio-carrier.js';

type Form = Record<string, string | string[]>;

/** To every node; the one that knows the call (or verification) acts, the others ignore it. */
type Forward =
  | { kind: 'status'; callSid: string; params: Form }
  | { kind: 'verification'; verificationId: string; status?: string }
  | { kind: 'twiml'; callSid: string; answeredBy?: string; link: string }
  | { kind: 'relay-open'; callSid: string; link: string; first: string; queryCallSid?: string };

/** On a link, from the owner to the node that asked (`.out`), or the other way (`.in`). */
type LinkOut = { kind: 'twiml'; twiml: string } | { kind: 'accepted' } | { kind: 'send'; data: string } | { kind: 'close'; code?: number; reason?: string };
type LinkIn = { kind: 'message'; data: string } | { kind: 'closed' };

const FORWARD = 'twilio.forward';
const linkOut = (id: string) => `twilio.link.${id}.out`;
const linkIn = (id: string) => `twilio.link.${id}.in`;

/** How long a node waits for the owner of a call to answer before treating the call as unknown. */
const OWNER_WAIT_MS = 3_000;

export class TwilioCluster {
  private stop: (() => Promise<void>) | undefined;

  constructor(
    private readonly carrier: TwilioCarrier,
    private readonly bus: Bus,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.stop = await this.bus.subscribe(FORWARD, (m) => this.onForward(m as Forward));
    this.carrier.onUnknownRelay((socket, first, callSid, queryCallSid) =>
      background(
        this.log,
        'relay socket not forwarded',
        async () => {
          try {
            await this.forwardRelay(socket, first, callSid, queryCallSid);
          } catch (err) {
            // The bus is away: Twilio reconnects or ends the call; a socket nobody serves is closed.
            socket.close(1011, 'unavailable');
            throw err;
          }
        },
        { callSid },
      ),
    );
  }

  async close(): Promise<void> {
    await this.stop?.();
  }

  /** A status callback for a call this node does not know. */
  forwardStatus(callSid: string, params: Form): Promise<void> {
    return this.bus.publish(FORWARD, { kind: 'status', callSid, params } satisfies Forward);
  }

  forwardVerification(verificationId: string, status: string | undefined): Promise<void> {
    return this.bus.publish(FORWARD, { kind: 'verification', verificationId, status } satisfies Forward);
  }

  /** The owner's TwiML for a call this node does not know; null when no node knows it. */
  async twiml(callSid: string, answeredBy: string | undefined): Promise<string | null> {
    const link = randomUUID();
    const answer = this.await<LinkOut>(linkOut(link), (m) => m.kind === 'twiml');
    await answer.ready;
    await this.bus.publish(FORWARD, { kind: 'twiml', callSid, answeredBy, link } satisfies Forward);
    const m = await answer.result;
    return m?.kind === 'twiml' ? m.twiml : null;
  }

  /** The node Twilio reached: bridges a relay socket for a call this node does not know to its owner. */
  private async forwardRelay(socket: WebSocket, first: string, callSid: string, queryCallSid?: string): Promise<void> {
    const link = randomUUID();
    const pending: string[] = [];
    let accepted = false;
    const onMessage = (data: unknown) => {
      if (accepted) this.send(linkIn(link), { kind: 'message', data: String(data) } satisfies LinkIn);
      else pending.push(String(data));
    };
    socket.on('message', onMessage);
    const unsubscribe = await this.bus.subscribe(linkOut(link), (raw) => {
      const m = raw as LinkOut;
      if (m.kind === 'accepted') {
        accepted = true;
        for (const data of pending.splice(0)) this.send(linkIn(link), { kind: 'message', data } satisfies LinkIn);
      } else if (m.kind === 'send' && socket.readyState === socket.OPEN) socket.send(m.data);
      else if (m.kind === 'close') socket.close(m.code ?? 1000, m.reason);
    });
    socket.on('close', () => {
      if (accepted) this.send(linkIn(link), { kind: 'closed' } satisfies LinkIn);
      background(this.log, 'relay link unsubscribe failed', unsubscribe(), { callSid });
    });
    await this.bus.publish(FORWARD, { kind: 'relay-open', callSid, link, first, queryCallSid } satisfies Forward);
    setTimeout(() => {
      if (accepted) return;
      this.log.warn({ callSid }, 'relay socket for a call no node knows');
      socket.close(1008, 'unknown call');
    }, OWNER_WAIT_MS).unref();
  }

  /** Every node: acts on what concerns a call (or verification) it knows. */
  private async onForward(m: Forward): Promise<void> {
    try {
      if (m.kind === 'verification') return this.carrier.verificationStatus(m.verificationId, m.status);
      if (!this.carrier.hasCall(m.callSid)) return;
      if (m.kind === 'status') return this.carrier.onStatus(m.params);
      if (m.kind === 'twiml') {
        const twiml = this.carrier.twimlFor(m.callSid, m.answeredBy);
        if (twiml) await this.bus.publish(linkOut(m.link), { kind: 'twiml', twiml } satisfies LinkOut);
        return;
      }
      await this.acceptRelay(m);
    } catch (err) {
      this.log.error({ err, kind: m.kind }, 'forwarded twilio callback failed');
    }
  }

  /** The owner: the far socket becomes a local stand-in, attached like any relay socket. */
  private async acceptRelay(m: Extract<Forward, { kind: 'relay-open' }>): Promise<void> {
    const bridged = new BridgedSocket((out) => this.send(linkOut(m.link), out));
    const unsubscribe = await this.bus.subscribe(linkIn(m.link), (raw) => {
      const i = raw as LinkIn;
      if (i.kind === 'message') bridged.emit('message', Buffer.from(i.data));
      else bridged.remoteClosed();
    });
    bridged.once('close', () => background(this.log, 'relay link unsubscribe failed', unsubscribe(), { callSid: m.callSid }));
    await this.bus.publish(linkOut(m.link), { kind: 'accepted' } satisfies LinkOut);
    this.carrier.attachRelay(bridged as unknown as WebSocket, m.queryCallSid);
    bridged.emit('message', Buffer.from(m.first));
  }

  /** Subscribes to `channel` and resolves with the first message `accept` takes, or null after OWNER_WAIT_MS. */
  private await<T>(channel: string, accept: (m: T) => boolean): { ready: Promise<unknown>; result: Promise<T | null> } {
    let settle!: (m: T | null) => void;
    const result = new Promise<T | null>((r) => (settle = r));
    const ready = this.bus.subscribe(channel, (m) => accept(m as T) && settle(m as T));
    const timer = setTimeout(() => settle(null), OWNER_WAIT_MS).unref();
    const done = async () => {
      await result;
      clearTimeout(timer);
      await (await ready)();
    };
    background(this.log, 'twilio link unsubscribe failed', done(), { channel });
    return { ready, result };
  }

  /** One message of a bridged relay socket; a lost one is logged (the bus is away, the call will notice). */
  private send(channel: string, message: LinkIn | LinkOut): void {
    background(this.log, 'relay message not forwarded', this.bus.publish(channel, message), { channel, kind: message.kind });
  }
}

/**
 * What the owner's relay channel talks to: the subset of `ws.WebSocket` it uses (`send`, `close`,
 * `readyState`, `message`/`close` events), carried over the bus to the node that holds the real socket.
 */
class BridgedSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;

  constructor(private readonly out: (m: LinkOut) => void) {
    super();
  }

  send(data: string): void {
    if (this.readyState === this.OPEN) this.out({ kind: 'send', data: String(data) });
  }

  close(code?: number, reason?: string): void {
    if (this.readyState !== this.OPEN) return;
    this.readyState = 3;
    this.out({ kind: 'close', code, reason });
    this.emit('close', code ?? 1000);
  }

  /** The real socket closed on the far node. */
  remoteClosed(): void {
    if (this.readyState !== this.OPEN) return;
    this.readyState = 3;
    this.emit('close', 1000);
  }
}
