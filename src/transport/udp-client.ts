/**
 * The UDP client side of the lecture: socket(), sendto(), recvfrom(), close(), with what real
 * networks need on top: a timeout per reply and a bounded number of retries (UDP loses datagrams
 * and never tells), and an early end when the server's host answers ICMP "port unreachable".
 *
 * The socket is *connected* (`socket.connect()`, which sends nothing): the kernel then fixes the
 * peer's address for every send, delivers only the peer's datagrams (a stranger cannot inject
 * replies), and reports ICMP errors for it as ECONNREFUSED on the next receive. An unconnected
 * socket, as in the textbook, never learns of them and can only time out.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { DEFAULT_UDP_RETRIES, DEFAULT_UDP_TIMEOUT_MS } from '../defaults.js';
import {
  AbortError,
  ConnectError,
  describeSystemError,
  InvalidArgumentError,
  MessageTooLongError,
  NoReplyError,
  PortUnreachableError,
  ReadError,
  ResolveError,
  type SocketCall,
  type SocketStepsError,
  systemCodeOf,
  WriteError,
} from '../errors.js';
import { checkDatagramSize, type IpFamily, maxUdpPayload } from '../protocol/datagram.js';
import { bytesChannel, publishTraceBytes } from '../trace/bytes.js';
import {
  makeTraceEvent,
  newEndpointId,
  type TraceActionOf,
  type TraceAddress,
  type TraceEventInit,
  toTraceAddress,
  traceChannels,
} from '../trace/events.js';
import { formatAddress, validateDuration, validateHost, validateInteger, validatePort } from '../validate.js';

/** Options of {@link connectUdp}. */
export interface UdpConnectOptions {
  /** Server address: an IPv4 or IPv6 literal, or a host name. */
  host: string;
  /** Server port, 1 to 65535. */
  port: number;
  /** Aborts the attempt. */
  signal?: AbortSignal;
}

/** Options of {@link UdpClient.request}. */
export interface UdpRequestOptions {
  /**
   * Milliseconds to wait for a reply before sending the request again.
   * @default 1000
   */
  timeout?: number;
  /**
   * How many times to send the request again when no reply came in time (0: send once).
   * @default 3
   */
  retries?: number;
  /** Aborts the request. */
  signal?: AbortSignal;
  /**
   * Decides whether a datagram is the reply to this request. One it refuses (a late duplicate of
   * an earlier reply) is discarded and the wait goes on within the same timeout.
   * @default every datagram is accepted
   */
  accept?: (reply: Buffer) => boolean;
  /**
   * Called as each retry is sent, so that a program can say why it is still waiting (a UDP reply
   * may never come, and four silent seconds look like a hang).
   */
  onRetry?: (retry: UdpRetry) => void;
}

/** A retry of {@link UdpClient.request}: the request goes out again. */
export interface UdpRetry {
  /** This attempt's number, from 2. */
  attempt: number;
  /** Attempts in all (retries + 1). */
  attempts: number;
  /** How long the last attempt waited for a reply, in ms. */
  timeout: number;
}

/** Most replies kept while nobody waits for one (late duplicates): memory stays bounded. */
const MAX_QUEUED = 16;

/**
 * A UDP socket whose peer is fixed: send requests, receive replies. Made by {@link connectUdp}.
 */
export class UdpClient {
  /** Process-unique id used in trace events. */
  readonly endpoint: number;
  /** The server's IP version. */
  readonly family: IpFamily;
  /** The largest request this client can send in one datagram. */
  readonly maxPayload: number;
  /** The server as `address:port` (`[::1]:port` for IPv6). */
  readonly target: string;
  readonly #socket: Socket;
  readonly #remote: TraceAddress | undefined;
  readonly #queue: Buffer[] = [];
  #waiter: { resolve(reply: Buffer): void; reject(error: SocketStepsError): void } | undefined;
  #pendingError: SocketStepsError | undefined;
  #closed: Promise<void> | undefined;
  #busy = false;

  /** @internal Use {@link connectUdp}. */
  constructor(socket: Socket, address: string, port: number, family: IpFamily, endpoint: number) {
    this.#socket = socket;
    this.endpoint = endpoint;
    this.family = family;
    this.maxPayload = maxUdpPayload(family);
    this.target = formatAddress(address, port);
    this.#remote = toTraceAddress(address, port, family);
    socket.on('message', (message) => this.#onMessage(message));
    socket.on('error', (error) => this.#onError(error));
  }

  // Our side's address once the socket is bound, for the trace (a live view pairs it with the server's).
  #localAddress(): TraceAddress | undefined {
    try {
      const a = this.#socket.address();
      return toTraceAddress(a.address, a.port, a.family);
    } catch {
      return undefined; // closed already
    }
  }

  /**
   * Publishes a trace event for this client, if anyone listens. A `recvfrom` or `sendto` given the
   * datagram (`data`) also publishes it on the bytes channel, after the event, if anyone listens there.
   */
  trace(
    action: TraceActionOf<'udp', 'client'>,
    fields: Partial<TraceEventInit> = {},
    data?: Uint8Array,
  ): void {
    if (traceChannels.udpClient.hasSubscribers) {
      traceChannels.udpClient.publish(
        makeTraceEvent({ transport: 'udp', role: 'client', action, endpoint: this.endpoint, ...fields }),
      );
    }
    if (data !== undefined && bytesChannel.hasSubscribers && (action === 'recvfrom' || action === 'sendto')) {
      publishTraceBytes({
        transport: 'udp',
        role: 'client',
        endpoint: this.endpoint,
        direction: action === 'recvfrom' ? 'read' : 'write',
        remote: fields.remote,
        data,
      });
    }
  }

  /**
   * sendto() the request, then recvfrom() its reply; with no reply within `timeout` ms, sends it
   * again, `retries` times at most. Resolves with the reply's bytes (one whole datagram). Rejects
   * with {@link MessageTooLongError} before sending anything if the request does not fit in one
   * datagram, {@link PortUnreachableError} at once on an ICMP "port unreachable",
   * {@link NoReplyError} after the last retry, {@link WriteError} / {@link ReadError} for other
   * socket errors, {@link AbortError} on `signal`.
   *
   * Replies that arrived before this call (late answers to an earlier request) are discarded.
   */
  async request(payload: Uint8Array, options: UdpRequestOptions = {}): Promise<Buffer> {
    const timeout = validateDuration(options.timeout ?? DEFAULT_UDP_TIMEOUT_MS, 'timeout');
    const retries = validateInteger(options.retries ?? DEFAULT_UDP_RETRIES, 'retries', 0, 1000);
    checkDatagramSize(payload.length, this.family);
    if (this.#closed !== undefined) {
      throw new WriteError(`${this.target}: the socket is closed`, { call: 'sendto' });
    }
    if (this.#busy) throw new InvalidArgumentError('a UdpClient sends one request at a time');
    this.#busy = true;
    try {
      return await this.#exchange(payload, timeout, retries, options);
    } finally {
      this.#busy = false;
    }
  }

  async #exchange(
    payload: Uint8Array,
    timeout: number,
    retries: number,
    options: UdpRequestOptions,
  ): Promise<Buffer> {
    this.#queue.length = 0;
    const attempts = retries + 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        this.trace('error', {
          remote: this.#remote,
          reason: `no reply within ${timeout} ms, sending again (attempt ${attempt} of ${attempts})`,
        });
        options.onRetry?.({ attempt, attempts, timeout });
      }
      await this.send(payload);
      const deadline = performance.now() + timeout;
      for (;;) {
        const reply = await this.receive(Math.max(1, deadline - performance.now()), options.signal);
        if (reply === undefined) break;
        if (options.accept === undefined || options.accept(reply)) return reply;
        this.trace('error', {
          remote: this.#remote,
          reason: `discarded a datagram of ${reply.length} bytes that is not the reply`,
        });
        if (performance.now() >= deadline) break;
      }
    }
    throw new NoReplyError(
      `${this.target}: no reply after ${attempts === 1 ? `1 attempt of ${timeout} ms` : `${attempts} attempts of ${timeout} ms each`}`,
      { call: 'recvfrom' },
    );
  }

  /** sendto(): sends one datagram to the server. Rejects like {@link request} does. */
  send(payload: Uint8Array): Promise<void> {
    const pending = this.#takePendingError();
    if (pending !== undefined) return Promise.reject(pending);
    try {
      checkDatagramSize(payload.length, this.family);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      const onSent = (error: Error | null) => {
        if (error) {
          reject(mapSocketError(error, 'sendto', this.target));
          return;
        }
        if (traceChannels.udpClient.hasSubscribers || bytesChannel.hasSubscribers) {
          this.trace(
            'sendto',
            { local: this.#localAddress(), remote: this.#remote, bytes: payload.length },
            payload,
          );
        }
        resolve();
      };
      try {
        this.#socket.send(payload, onSent);
      } catch (error) {
        // dgram throws at once on a closed socket (a close() racing a retry), for example.
        onSent(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /**
   * recvfrom(): waits up to `timeout` ms for the next datagram from the server. Resolves with it,
   * or with `undefined` on timeout; rejects on a socket error (ICMP included) or `signal`.
   */
  receive(timeout: number, signal?: AbortSignal): Promise<Buffer | undefined> {
    const pending = this.#takePendingError();
    if (pending !== undefined) return Promise.reject(pending);
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (signal?.aborted) return Promise.reject(abortError(this.target));
    if (this.#waiter !== undefined) {
      // Two waits at once could not tell whose reply is whose: requests on one client take turns.
      return Promise.reject(new InvalidArgumentError('a UdpClient receives for one request at a time'));
    }
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiter = undefined;
      };
      const onAbort = () => {
        done();
        reject(abortError(this.target));
      };
      const timer = setTimeout(() => {
        done();
        resolve(undefined);
      }, timeout);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiter = {
        resolve: (reply) => {
          done();
          resolve(reply);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
    });
  }

  /** close(): closes the socket (client step 4). Safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= new Promise((resolve) => {
      this.#socket.once('close', () => {
        this.trace('close');
        resolve();
      });
      this.#socket.close();
    });
    return this.#closed;
  }

  /** Closes the socket (`await using client = ...`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #onMessage(message: Buffer): void {
    this.trace('recvfrom', { remote: this.#remote, bytes: message.length }, message);
    if (this.#waiter !== undefined) {
      this.#waiter.resolve(message);
      return;
    }
    if (this.#queue.length >= MAX_QUEUED) this.#queue.shift();
    this.#queue.push(message);
  }

  #onError(error: Error): void {
    const mapped = mapSocketError(error, 'recvfrom', this.target);
    this.trace('error', { remote: this.#remote, reason: describeSystemError(error) });
    if (this.#waiter !== undefined) this.#waiter.reject(mapped);
    else this.#pendingError = mapped;
  }

  #takePendingError(): SocketStepsError | undefined {
    const error = this.#pendingError;
    this.#pendingError = undefined;
    return error;
  }
}

/**
 * socket() and connect() for UDP (which sends nothing; it fixes the peer). Resolves with a
 * {@link UdpClient}; rejects with {@link ResolveError}, {@link ConnectError} or {@link AbortError}.
 */
export async function connectUdp(options: UdpConnectOptions): Promise<UdpClient> {
  const host = validateHost(options.host);
  const port = validatePort(options.port, { allowZero: false });
  const target = formatAddress(host, port);
  if (options.signal?.aborted) throw abortError(target);
  let address = host;
  let family = isIP(host);
  if (family === 0) {
    try {
      ({ address, family } = await lookup(host));
    } catch (error) {
      throw new ResolveError(`cannot resolve '${host}': ${describeSystemError(error)}`, {
        cause: error,
        call: 'connect',
      });
    }
  }
  const ipFamily: IpFamily = family === 6 ? 'IPv6' : 'IPv4';
  const endpoint = newEndpointId();
  const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
  const client = new UdpClient(socket, address, port, ipFamily, endpoint);
  client.trace('socket', { combinedIn: 'socket.connect()' });
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => fail(abortError(target));
    const fail = (error: SocketStepsError) => {
      options.signal?.removeEventListener('abort', onAbort);
      client.close().then(() => reject(error));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.connect(port, address, (error?: Error) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (error)
        fail(new ConnectError(`${target}: ${describeSystemError(error)}`, { cause: error, call: 'connect' }));
      else resolve();
    });
  });
  return client;
}

function abortError(target: string): AbortError {
  return new AbortError(`the exchange with ${target} was aborted`, { call: 'recvfrom' });
}

function mapSocketError(error: Error, call: SocketCall, target: string): SocketStepsError {
  const code = systemCodeOf(error);
  if (code === 'ECONNREFUSED') {
    return new PortUnreachableError(
      `${target}: port unreachable, nothing is listening there (ICMP port unreachable, ECONNREFUSED)`,
      { cause: error, call },
    );
  }
  if (code === 'EMSGSIZE') {
    return new MessageTooLongError(`${target}: ${describeSystemError(error)}`, { cause: error, call });
  }
  const reason = `${target}: ${describeSystemError(error)}`;
  return call === 'sendto'
    ? new WriteError(reason, { cause: error, call })
    : new ReadError(reason, { cause: error, call });
}
