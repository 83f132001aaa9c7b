/**
 * A UDP server that owns its socket: socket(), bind(), then a loop of recvfrom() and sendto() (the
 * lecture's UDP flow; no listen, no accept, no connections). Every datagram goes to the
 * `onMessage` handler, whose return value, if any, is sent back to the address and port the
 * datagram came from, as one datagram. It knows nothing of the service that runs on it.
 *
 * Replies are rate-limited per source address (a token bucket, see {@link RateLimiter}): a server
 * that answers anyone can otherwise be used to flood a victim whose address an attacker spoofs.
 * Whatever the rate limit, two guards against loops between answering servers stay on: a
 * datagram from one of this process's own UDP servers is never answered, and a source that plays
 * our replies straight back again and again has the last of a run unanswered (see {@link LoopGuard}).
 */
import { createSocket, type RemoteInfo, type Socket, type SocketType } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { readFileSync, readlinkSync } from 'node:fs';
import { type AddressInfo, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { crc32 } from 'node:zlib';
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_SERVER_HOST,
  DEFAULT_UDP_RATE_LIMIT_SOURCES,
  DEFAULT_UDP_REPLY_BURST,
  DEFAULT_UDP_REPLY_RATE,
} from '../defaults.js';
import {
  BindError,
  describeSystemError,
  InvalidArgumentError,
  ResolveError,
  ServerClosedError,
  systemCodeOf,
} from '../errors.js';
import { LoopGuard, type LoopGuardOptions } from '../policy/loop-guard.js';
import { RateLimiter } from '../policy/rate-limit.js';
import { bytesChannel, publishTraceBytes } from '../trace/bytes.js';
import {
  makeTraceEvent,
  newEndpointId,
  type TraceActionOf,
  type TraceEventInit,
  toTraceAddress,
  traceChannels,
} from '../trace/events.js';
import {
  formatAddress,
  validateDuration,
  validateHost,
  validateInteger,
  validateListenSource,
} from '../validate.js';
import { type ServerStats, Tally } from './stats.js';

/**
 * Handles one received datagram. Returns the reply to send back to its sender, or `undefined` to
 * send nothing. Called synchronously for each datagram, in arrival order.
 */
export type DatagramHandler = (
  message: Buffer,
  remote: RemoteInfo,
  server: UdpServer,
) => Uint8Array | undefined;

/** The reflection rate limit of a {@link UdpServer}: a token bucket per source address. */
export interface UdpRateLimitOptions {
  /**
   * Replies per second each source address may get in the long run.
   * @default 50
   */
  rate?: number;
  /**
   * Replies a source may get back to back before `rate` applies.
   * @default 100
   */
  burst?: number;
  /**
   * Source addresses tracked at once (the least recently heard from is forgotten past it).
   * @default 10000
   */
  maxSources?: number;
  /** The limiter's clock in milliseconds, for tests. @default performance.now */
  now?: () => number;
  /**
   * What counts as one source: datagrams with the same key share a bucket. Keying by address
   * (not address and port) is what makes the limit hold against spoofing, where the attacker
   * picks the ports freely. A function can group wider (an IPv6 /64) or, where senders are
   * trusted not to forge, narrower (address and port).
   * @default the source address
   */
  key?: (remote: RemoteInfo) => string;
}

/** Options of a {@link UdpServer}. */
export interface UdpServerOptions {
  /** Port to bind; 0 lets the system choose (see `listen()`'s result). Give either `port` or `fd`. */
  port?: number;
  /**
   * A bound UDP socket this process inherited, by descriptor number (systemd socket activation
   * passes it as 3): `host`, `port` and `reusePort` do not apply. Give either `port` or `fd`.
   */
  fd?: number;
  /** The service's name in stats (`hello`, `echo`). @default 'udp' */
  service?: string;
  /**
   * Address to bind: an IPv4 or IPv6 literal or a host name. `::` receives IPv4 too (dual stack).
   * @default '0.0.0.0' (the textbook's INADDR_ANY)
   */
  host?: string;
  /**
   * Bind with SO_REUSEPORT: other sockets that set it too (same user) can bind the same port, and
   * the kernel spreads datagrams over them by the sender's address. `--workers N` uses it.
   * @default false
   */
  reusePort?: boolean;
  /**
   * Stop after sending this many replies, then close.
   * @default Infinity
   */
  maxReplies?: number;
  /**
   * Per-source rate limit of replies, or `false` for none (only where every sender is trusted).
   * @default { rate: 50, burst: 100, maxSources: 10000 }
   */
  rateLimit?: UdpRateLimitOptions | false;
  /**
   * On `close()`, how long replies already handed to the kernel may take to go out.
   * @default 5000
   */
  closeTimeout?: number;
  /**
   * Tuning of the loop guard, which stays on with or without a rate limit: a source that sends
   * back what we just sent it, again and again, is another server answering us (see {@link LoopGuard}).
   * @default { bounceWindow: 50, maxBounces: 16 }
   */
  loopGuard?: LoopGuardOptions;
  /**
   * Datagrams from a source port below this are never answered (xinetd's rule for its built-in
   * UDP services): the well-known ports are other services (echo 7, chargen 19, DNS 53), and a
   * datagram forged to come from one would set two services answering each other. Services whose
   * reply does not depend on the request (chargen, daytime, time, qotd) set 1024.
   * @default 0 (every port is answered)
   */
  minSourcePort?: number;
  /** Handles each datagram and returns the reply, if any. */
  onMessage: DatagramHandler;
}

// The addresses of this process's bound UDP servers, by port: a datagram from one of them is one
// of our own answers coming back to us (a spoofed datagram set two of our servers talking).
const ownSockets = new Map<number, Set<string>>();

const WILDCARDS = new Set(['0.0.0.0', '::']);

// IPv4 peers of a dual-stack socket arrive as ::ffff:a.b.c.d.
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** The addresses of this machine's interfaces, loopback included. */
function localAddresses(): Set<string> {
  const all = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) all.add(plainAddress(info.address.split('%')[0] as string));
  }
  return all;
}

/**
 * True when `address`:`port` is the address of one of this process's bound UDP servers: for a
 * server bound to a wildcard address, any address of this machine with its port.
 */
export function isOwnUdpAddress(address: string, port: number): boolean {
  const bound = ownSockets.get(port);
  if (bound === undefined) return false;
  const plain = plainAddress(address);
  if (bound.has(plain)) return true;
  if (![...bound].some((a) => WILDCARDS.has(a))) return false;
  return plain.startsWith('127.') || localAddresses().has(plain);
}

/** A bound UDP server: socket, bind, then recvfrom and sendto in a loop. */
export class UdpServer {
  /** Process-unique id used in trace events. */
  readonly endpoint = newEndpointId();
  readonly #host: string;
  readonly #port: number;
  readonly #fd: number | undefined;
  readonly #service: string;
  readonly #reusePort: boolean;
  readonly #maxReplies: number;
  readonly #limiter: RateLimiter | undefined;
  readonly #limitKey: (remote: RemoteInfo) => string;
  readonly #loopGuard: LoopGuard;
  #ownEntry: { port: number; address: string } | undefined;
  #loopDropped = 0;
  #ownDropped = 0;
  #lowPortDropped = 0;
  readonly #minSourcePort: number;
  readonly #closeTimeout: number;
  readonly #onMessage: DatagramHandler;
  #socket: Socket | undefined;
  #received = 0;
  #started = 0;
  #replied = 0;
  #dropped = 0;
  #failed = 0;
  #inFlight = 0;
  #bytesIn = 0;
  #bytesOut = 0;
  readonly #errors = new Tally();
  #stopping = false;
  #bound = false;
  #socketClosed = false;
  #listening: Promise<AddressInfo> | undefined;
  #closing: Promise<void> | undefined;
  #closeTimer: NodeJS.Timeout | undefined;
  #resolveClosed!: () => void;
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;

  constructor(options: UdpServerOptions) {
    ({ port: this.#port, fd: this.#fd } = validateListenSource(options.port, options.fd));
    this.#service = options.service ?? 'udp';
    this.#reusePort = options.reusePort ?? false;
    this.#host = validateHost(options.host ?? DEFAULT_SERVER_HOST);
    this.#maxReplies = options.maxReplies ?? Number.POSITIVE_INFINITY;
    if (this.#maxReplies !== Number.POSITIVE_INFINITY)
      validateInteger(this.#maxReplies, 'count', 1, 2 ** 31 - 1);
    const limit = options.rateLimit ?? {};
    this.#limiter =
      limit === false
        ? undefined
        : new RateLimiter({
            rate: limit.rate ?? DEFAULT_UDP_REPLY_RATE,
            burst: limit.burst ?? DEFAULT_UDP_REPLY_BURST,
            maxKeys: limit.maxSources ?? DEFAULT_UDP_RATE_LIMIT_SOURCES,
            now: limit.now,
          });
    this.#limitKey = (limit !== false && limit.key) || sourceAddress;
    this.#loopGuard = new LoopGuard({
      ...options.loopGuard,
      ...(limit !== false && limit.now !== undefined && options.loopGuard?.now === undefined
        ? { now: limit.now }
        : {}),
    });
    this.#closeTimeout = validateDuration(options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT_MS, 'close timeout');
    this.#minSourcePort = validateInteger(options.minSourcePort ?? 0, 'minimum source port', 0, 65535);
    if (typeof options.onMessage !== 'function') {
      throw new InvalidArgumentError('invalid onMessage: a UdpServer needs a function to handle datagrams');
    }
    this.#onMessage = options.onMessage;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** Datagrams received so far. */
  get received(): number {
    return this.#received;
  }

  /** Replies sent so far (handed to the kernel without error). */
  get replied(): number {
    return this.#replied;
  }

  /** Replies not sent because their destination was over the rate limit. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Datagrams not answered by the loop guard: from one of this process's own servers
   * (`ownAddress`), from a source that kept playing our replies back (`bounce`), or from a port
   * below `minSourcePort` (`lowPort`).
   */
  get loopDropped(): {
    /** Datagrams from an address of one of this process's own servers. */
    ownAddress: number;
    /** Datagrams that completed a run of bounces. */
    bounce: number;
    /** Datagrams from a source port below `minSourcePort`. */
    lowPort: number;
  } {
    return { ownAddress: this.#ownDropped, bounce: this.#loopDropped, lowPort: this.#lowPortDropped };
  }

  /** Replies whose sendto() failed (the server goes on). */
  get failed(): number {
    return this.#failed;
  }

  /** The server's counters now, in the shape every server shares (see {@link ServerStats}). */
  snapshot(): ServerStats {
    return {
      transport: 'udp',
      service: this.#service,
      accepted: this.#received,
      refused: this.#dropped,
      open: this.#inFlight,
      errors: this.#errors.toRecord(),
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      outcomes: {
        replied: this.#replied,
        'loop:own-address': this.#ownDropped,
        'loop:bounce': this.#loopDropped,
        ...(this.#minSourcePort > 0 ? { 'loop:low-port': this.#lowPortDropped } : {}),
      },
      healthChecks: 0,
      stages: {},
    };
  }

  /** Source addresses the rate limiter tracks now (0 without a limit). */
  get trackedSources(): number {
    return this.#limiter?.size ?? 0;
  }

  /** The bound address, once bound. */
  address(): AddressInfo | undefined {
    try {
      return this.#socket?.address();
    } catch {
      // address() throws on a socket that is not bound (yet, or any more).
      return undefined;
    }
  }

  /**
   * True while trace subscribers (or the bytes channel's: `--hex`) are listening. `trace()`
   * checks it itself; check it first only to skip building an event's fields on a hot path.
   */
  get tracing(): boolean {
    return traceChannels.udpServer.hasSubscribers || bytesChannel.hasSubscribers;
  }

  /**
   * Publishes a trace event, if anyone listens (the one trace() contract). A `recvfrom` or
   * `sendto` given the datagram (`data`) also publishes it on the bytes channel, after the event.
   */
  trace(
    action: TraceActionOf<'udp', 'server'>,
    fields: Partial<TraceEventInit> = {},
    data?: Uint8Array,
  ): void {
    if (traceChannels.udpServer.hasSubscribers) {
      traceChannels.udpServer.publish(
        makeTraceEvent({ transport: 'udp', role: 'server', action, endpoint: this.endpoint, ...fields }),
      );
    }
    if (data !== undefined && bytesChannel.hasSubscribers && (action === 'recvfrom' || action === 'sendto')) {
      publishTraceBytes({
        transport: 'udp',
        role: 'server',
        endpoint: this.endpoint,
        direction: action === 'recvfrom' ? 'read' : 'write',
        remote: fields.remote,
        data,
      });
    }
  }

  /**
   * socket() and bind(). Resolves with the bound address once datagrams can arrive; rejects with a
   * {@link BindError} (address in use, not local, not permitted) or {@link ResolveError}. Calling
   * it again returns the same promise.
   */
  listen(): Promise<AddressInfo> {
    if (this.#listening === undefined && this.#closing !== undefined) {
      return Promise.reject(new ServerClosedError('the server was closed before listen()', { call: 'bind' }));
    }
    this.#listening ??= this.#bind();
    return this.#listening;
  }

  /**
   * Stops receiving, lets replies already on their way go out (for up to `closeTimeout` ms), then
   * closes the socket. Safe to call more than once, and before `listen()`.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#stopping = true;
    if (this.#listening === undefined) {
      this.#resolveClosed();
      this.#closing = this.closed;
      return this.#closing;
    }
    this.#closing = this.#listening.then(
      () => {
        if (this.#socketClosed) return this.closed;
        if (this.#inFlight === 0) this.#closeSocket();
        else this.#closeTimer = setTimeout(() => this.#closeSocket(), this.#closeTimeout);
        return this.closed;
      },
      () => this.closed,
    );
    return this.#closing;
  }

  /** Closes the socket now; replies still on their way are cancelled. Safe to call more than once. */
  destroy(): Promise<void> {
    const closing = this.close();
    if (this.#bound) this.#closeSocket();
    return closing;
  }

  /** Closes the server gracefully (`await using server = ...`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #bind(): Promise<AddressInfo> {
    const where = this.#fd === undefined ? formatAddress(this.#host, this.#port) : `descriptor ${this.#fd}`;
    let address = this.#host;
    // An inherited socket has its family already: the kernel's socket tables tell which.
    let family = this.#fd === undefined ? isIP(address) : inheritedUdpFamily(this.#fd);
    if (family === 0) {
      try {
        ({ address, family } = await lookup(this.#host));
      } catch (error) {
        this.#resolveClosed();
        throw new ResolveError(`cannot resolve '${this.#host}': ${describeSystemError(error)}`, {
          cause: error,
          call: 'bind',
        });
      }
    }
    const type: SocketType = family === 6 ? 'udp6' : 'udp4';
    const socket = createSocket({ type, ipv6Only: false, reusePort: this.#reusePort });
    this.#socket = socket;
    return new Promise<AddressInfo>((resolve, reject) => {
      const onError = (error: Error) => {
        socket.off('listening', onListening);
        const code = systemCodeOf(error);
        const message =
          code === 'ENOTFOUND' || code === 'EAI_AGAIN'
            ? new ResolveError(`cannot resolve '${this.#host}': ${describeSystemError(error)}`, {
                cause: error,
                call: 'bind',
              })
            : new BindError(`${where}: ${describeSystemError(error)}`, { cause: error, call: 'bind' });
        this.#stopping = true;
        this.#closeSocket();
        reject(message);
      };
      const onListening = () => {
        socket.off('error', onError);
        this.#bound = true;
        // Past bind, an error concerns one datagram (unconnected UDP sockets get no ICMP errors on
        // Linux): it must never stop the server.
        socket.on('error', (error) => {
          if (this.tracing) this.trace('error', { reason: describeSystemError(error) });
        });
        socket.on('message', (message, remote) => this.#receive(message, remote));
        const bound = socket.address();
        this.#ownEntry = { port: bound.port, address: plainAddress(bound.address) };
        const set = ownSockets.get(bound.port) ?? new Set<string>();
        ownSockets.set(bound.port, set);
        set.add(this.#ownEntry.address);
        if (this.tracing) {
          const local = toTraceAddress(bound.address, bound.port, bound.family);
          const how = this.#fd === undefined ? { combinedIn: 'socket.bind()' } : { fd: this.#fd };
          this.trace('socket', how);
          this.trace('bind', { local, ...how });
        }
        resolve(bound);
      };
      socket.once('error', onError);
      socket.once('listening', onListening);
      socket.once('close', () => {
        clearTimeout(this.#closeTimer);
        // A socket whose bind failed never had an address: its close is not a step of the flow.
        if (this.tracing && this.#bound) this.trace('close');
        this.#resolveClosed();
      });
      if (this.#fd === undefined) socket.bind({ address, port: this.#port, exclusive: true });
      else socket.bind({ fd: this.#fd, exclusive: true });
    });
  }

  #closeSocket(): void {
    const socket = this.#socket;
    if (socket === undefined || this.#socketClosed) return;
    this.#socketClosed = true;
    const own = this.#ownEntry;
    if (own !== undefined) {
      // Another server of ours may share the port (SO_REUSEPORT): remove only our address.
      const set = ownSockets.get(own.port);
      set?.delete(own.address);
      if (set?.size === 0) ownSockets.delete(own.port);
      this.#ownEntry = undefined;
    }
    clearTimeout(this.#closeTimer);
    socket.close();
  }

  #receive(message: Buffer, remote: RemoteInfo): void {
    if (this.#stopping) return;
    // Source port 0 is legal on the wire but cannot be answered (send() throws on it): drop it.
    if (remote.port === 0) return;
    this.#received++;
    this.#bytesIn += message.length;
    const tracing = this.tracing;
    const from = tracing ? toTraceAddress(remote.address, remote.port, remote.family) : undefined;
    if (tracing) this.trace('recvfrom', { remote: from, bytes: message.length }, message);
    let reply: Uint8Array | undefined;
    try {
      reply = this.#onMessage(message, remote, this);
    } catch (error) {
      // A service's bug with one datagram must not take the server down for everyone else.
      if (tracing) this.trace('error', { remote: from, reason: describeSystemError(error) });
      return;
    }
    if (reply === undefined) return;
    // Loops first, with or without a rate limit: they cost nothing to tell, and the rate limit,
    // which can be off, must not be what ends them.
    if (remote.port < this.#minSourcePort) {
      this.#lowPortDropped++;
      if (tracing) this.trace('drop', { remote: from, bytes: reply.length, reason: 'low port' });
      return;
    }
    if (isOwnUdpAddress(remote.address, remote.port)) {
      this.#ownDropped++;
      if (tracing) this.trace('drop', { remote: from, bytes: reply.length, reason: 'own address' });
      return;
    }
    const source = `${remote.address}|${remote.port}`;
    // The checksum only when the length matches our last reply; echo's reply is the message.
    let digest: number | undefined;
    const messageDigest = () => (digest ??= crc32(message));
    if (this.#loopGuard.admit(source, message.length, messageDigest) === 'loop') {
      this.#loopDropped++;
      if (tracing) this.trace('drop', { remote: from, bytes: reply.length, reason: 'loop' });
      return;
    }
    let allowed = true;
    try {
      allowed = this.#limiter === undefined || this.#limiter.take(this.#limitKey(remote));
    } catch (error) {
      // A faulty rate-limit key function: drop this reply, keep serving.
      if (tracing) this.trace('error', { remote: from, reason: describeSystemError(error) });
      return;
    }
    if (!allowed) {
      this.#dropped++;
      if (tracing) this.trace('drop', { remote: from, bytes: reply.length, reason: 'rate limit' });
      return;
    }
    this.#loopGuard.replied(source, reply.length, reply === message ? messageDigest() : crc32(reply));
    if (++this.#started >= this.#maxReplies) this.#stopping = true;
    this.#inFlight++;
    const bytes = reply.length;
    const onSent = (error: Error | null) => {
      this.#inFlight--;
      if (error) {
        this.#failed++;
        this.#errors.add(systemCodeOf(error) ?? 'ERR_SEND');
        if (this.tracing) this.trace('error', { remote: from, reason: describeSystemError(error) });
      } else {
        this.#replied++;
        this.#bytesOut += bytes;
        if (this.tracing) {
          const to = from ?? toTraceAddress(remote.address, remote.port, remote.family);
          this.trace('sendto', { remote: to, bytes }, reply);
        }
      }
      if (this.#inFlight === 0 && this.#stopping) {
        if (this.#started >= this.#maxReplies) this.close();
        if (this.#closing !== undefined) this.#closeSocket();
      }
    };
    try {
      this.#socket?.send(reply, remote.port, remote.address, onSent);
    } catch (error) {
      // dgram throws synchronously for what it rejects before the system call.
      onSent(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

function sourceAddress(remote: RemoteInfo): string {
  return remote.address;
}

// The family of an inherited UDP socket: 6 if its inode is in the kernel's IPv6 UDP table, else 4.
// (The socket must be created with the right type before Node can adopt the descriptor.)
function inheritedUdpFamily(fd: number): 4 | 6 {
  try {
    const link = readlinkSync(`/proc/self/fd/${fd}`, { encoding: 'utf8' });
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode === undefined) return 4;
    const table = readFileSync('/proc/net/udp6', 'utf8');
    return table.split('\n').some((line) => line.trim().split(/\s+/)[9] === inode) ? 6 : 4;
  } catch {
    return 4; // no /proc: IPv4, the common case
  }
}
