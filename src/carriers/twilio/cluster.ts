/**
 * Twilio's callbacks in a cluster. Twilio sends a call's callbacks, and opens its relay socket, wherever the
 * load balancer points; but a live call is known only to the node whose session carries it (the node that
 * placed or answered it). A node that gets something for a call it does not know passes it on over the bus:
 * every node listens on `twilio.forward` and the one that knows the call acts. Status callbacks and
 * caller-ID results are passed on as they are; the TwiML request waits for the owner's answer; a relay
 * socket or a Media Streams socket (audio mode, user-on-call listening forks) stays on the node Twilio
 * reached and is bridged message by message to the owner, where the call's channel sees an ordinary socket.
 * Why bridge rather than route sockets to the owner: docs/architecture.md, "Sockets in a cluster".
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

/**
 * To every node; the one that knows the call (or verification) acts, the others ignore it. `account` is the
 * Twilio account whose token signed what is passed on: the owner acts only if its call is of that account.
 */
type Forward =
  | { kind: 'status'; callSid: string; params: Form; account: string }
  | { kind: 'verification'; verificationId: string; status?: string }
  | { kind: 'twiml'; callSid: string; answeredBy?: string; link: string; account: string }
  | { kind: 'relay-open'; callSid: string; link: string; first: string; queryCallSid?: string; account: string }
  /** A Media Streams socket: `early` are the messages read up to its verified `start`. */
  | { kind: 'media-open'; callSid: string; link: string; early: string[]; account: string };

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
    this.stop = await this.bus.subscribe(FORWARD, (m) => background(this.log, 'forwarded twilio callback failed', this.onForward(m as Forward)));
    this.carrier.onUnknownRelay((socket, first, callSid, queryCallSid, account) =>
      this.bridgeInBackground(socket, callSid, (link) => ({ kind: 'relay-open', callSid, link, first, queryCallSid, account })),
    );
    this.carrier.onUnknownMedia((socket, early, callSid, account) => this.bridgeInBackground(socket, callSid, (link) => ({ kind: 'media-open', callSid, link, early, account })));
  }

  private bridgeInBackground(socket: WebSocket, callSid: string, open: (link: string) => Forward): void {
    background(
      this.log,
      'socket not bridged to its owner',
      async () => {
        try {
          await this.bridge(socket, callSid, open);
        } catch (err) {
          // The bus is away: Twilio reconnects or ends the call; a socket nobody serves is closed.
          socket.close(1011, 'unavailable');
          throw err;
        }
      },
      { callSid },
    );
  }

  async close(): Promise<void> {
    await this.stop?.();
  }

  /** A status callback for a call this node does not know, verified as `account`. */
  forwardStatus(callSid: string, params: Form, account: string): Promise<void> {
    return this.bus.publish(FORWARD, { kind: 'status', callSid, params, account } satisfies Forward);
  }

  forwardVerification(verificationId: string, status: string | undefined): Promise<void> {
    return this.bus.publish(FORWARD, { kind: 'verification', verificationId, status } satisfies Forward);
  }

  /** The owner's TwiML for a call this node does not know (the request verified as `account`); null when no node knows it. */
  async twiml(callSid: string, answeredBy: string | undefined, account: string): Promise<string | null> {
    const link = randomUUID();
    const answer = this.await<LinkOut>(linkOut(link), (m) => m.kind === 'twiml');
    await answer.ready;
    await this.bus.publish(FORWARD, { kind: 'twiml', callSid, answeredBy, link, account } satisfies Forward);
    const m = await answer.result;
    return m?.kind === 'twiml' ? m.twiml : null;
  }

  /**
   * The node Twilio reached: bridges a socket for a call this node does not know to its owner. Messages are
   * held until the owner accepts (it subscribes first), then passed on in order; the bus keeps that order.
   */
  private async bridge(socket: WebSocket, callSid: string, open: (link: string) => Forward): Promise<void> {
    const link = randomUUID();
    const pending: string[] = [];
    let accepted = false;
    const pass = (data: string) => this.send(linkIn(link), { kind: 'message', data } satisfies LinkIn);
    // The carrier's own listeners are gone (the socket was handed over): an error must not go unheard.
    socket.on('error', (err) => this.log.warn({ err, callSid }, 'bridged socket error'));
    socket.on('message', (data: unknown) => {
      if (accepted) pass(String(data));
      else pending.push(String(data));
    });
    const unsubscribe = await this.bus.subscribe(linkOut(link), (raw) => {
      const m = raw as LinkOut;
      if (m.kind === 'accepted') {
        accepted = true;
        for (const data of pending.splice(0)) pass(data);
      } else if (m.kind === 'send' && socket.readyState === socket.OPEN) socket.send(m.data);
      else if (m.kind === 'close') socket.close(m.code ?? 1000, m.reason);
    });
    socket.on('close', () => {
      if (accepted) this.send(linkIn(link), { kind: 'closed' } satisfies LinkIn);
      background(this.log, 'bridge unsubscribe failed', unsubscribe(), { callSid });
    });
    await this.bus.publish(FORWARD, open(link));
    setTimeout(() => {
      if (accepted) return;
      this.log.warn({ callSid }, 'socket for a call no node knows');
      socket.close(1008, 'unknown call');
    }, OWNER_WAIT_MS).unref();
  }

  /** Every node: acts on what concerns a call (or verification) it knows. */
  private async onForward(m: Forward): Promise<void> {
    try {
      if (m.kind === 'verification') return this.carrier.verificationStatus(m.verificationId, m.status);
      if (!this.carrier.hasCall(m.callSid)) return;
      // Verified with another account's token than the call's: as if it had been refused where it arrived.
      if (!this.carrier.mayConcern(m.callSid, m.account)) return this.log.warn({ callSid: m.callSid, kind: m.kind }, 'forwarded twilio callback of another account');
      if (m.kind === 'status') return this.carrier.onStatus(m.params);
      if (m.kind === 'twiml') {
        const twiml = this.carrier.twimlFor(m.callSid, m.answeredBy);
        if (twiml) await this.bus.publish(linkOut(m.link), { kind: 'twiml', twiml } satisfies LinkOut);
        return;
      }
      await this.accept(m);
    } catch (err) {
      this.log.error({ err, kind: m.kind }, 'forwarded twilio callback failed');
    }
  }

  /** The owner: the far socket becomes a local stand-in, attached like a socket of its own. */
  private async accept(m: Extract<Forward, { kind: 'relay-open' | 'media-open' }>): Promise<void> {
    const bridged = new BridgedSocket((out) => this.send(linkOut(m.link), out));
    const unsubscribe = await this.bus.subscribe(linkIn(m.link), (raw) => {
      const i = raw as LinkIn;
      if (i.kind === 'message') bridged.emit('message', Buffer.from(i.data), false);
      else bridged.remoteClosed();
    });
    bridged.once('close', () => background(this.log, 'bridge unsubscribe failed', unsubscribe(), { callSid: m.callSid }));
    await this.bus.publish(linkOut(m.link), { kind: 'accepted' } satisfies LinkOut);
    const socket = bridged as unknown as WebSocket;
    if (m.kind === 'relay-open') {
      this.carrier.attachRelay(socket, m.queryCallSid, m.account);
      bridged.emit('message', Buffer.from(m.first), false);
    } else {
      this.carrier.attachMedia(socket, m.account);
      for (const data of m.early) bridged.emit('message', Buffer.from(data), false);
    }
  }

  /** Subscribes to `channel` and resolves with the first message `accept` takes, or null after OWNER_WAIT_MS. */
  private await<T>(channel: string, accept: (m: T) => boolean): { ready: Promise<unknown>; result: Promise<T | null> } {
    let settle!: (m: T | null) => void;
    const result = new Promise<T | null>((r) => (settle = r));
    const ready = this.bus.subscribe(channel, (m) => accept(m as T) && settle(m as T));
    const timer = setTimeout(() => settle(null), OWNER_WAIT_MS).unref();
    background(
      this.log,
      'owner wait unsubscribe failed',
      result.then(async () => {
        clearTimeout(timer);
        await (await ready)();
      }),
      { channel },
    );
    return { ready, result };
  }

  /** One message of a bridged socket (relay or media); a lost one is logged (the bus is away, the call will notice). */
  private send(channel: string, message: LinkIn | LinkOut): void {
    background(this.log, 'bridged socket message not forwarded', this.bus.publish(channel, message), { channel, kind: message.kind });
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
