/**
 * The discard service (RFC 863) over TCP and UDP: the server reads everything and throws it
 * away, counting the bytes; over TCP it closes once the client has closed its side, over UDP it
 * never answers. The client sends its input and reports how much went.
 */
import type { Socket } from 'node:net';
import { DEFAULT_CLIENT_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS } from '../defaults.js';
import { describeSystemError, IdleTimeoutError, ReadTimeoutError, WriteError } from '../errors.js';
import { traceChannels } from '../trace/events.js';
import type { ServerStats } from '../transport/stats.js';
import { connectTcp, readUntil, streamTarget, streamTargetOf } from '../transport/tcp-client.js';
import { TcpServer, type TcpServerOptions } from '../transport/tcp-server.js';
import { connectUdp } from '../transport/udp-client.js';
import { UdpServer, type UdpServerOptions } from '../transport/udp-server.js';
import { validateDuration } from '../validate.js';
import type { ClassicClientOptions } from './one-shot.js';

/** Options of {@link createDiscardServer}. */
export interface DiscardServerOptions
  extends Omit<TcpServerOptions, 'onConnection' | 'pauseOnConnect' | 'allowHalfOpen'> {
  /**
   * A client that sends nothing for this many ms is dropped.
   * @default 30000
   */
  idleTimeout?: number;
}

/**
 * A TCP discard server: each client's bytes are read and dropped (counted in `bytesDiscarded`)
 * until its FIN; then the server closes too. Call `listen()`.
 */
export class DiscardServer extends TcpServer {
  readonly #counts = { bytes: 0 };

  constructor(options: DiscardServerOptions) {
    const idleTimeout = validateDuration(options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_MS, 'idle timeout');
    const counts = { bytes: 0 };
    super({
      service: 'discard',
      ...options,
      refusal: options.refusal ?? new Uint8Array(0),
      allowHalfOpen: true,
      onConnection: ({ socket, id }, server) => startDiscarding(socket, id, server, idleTimeout, counts),
    });
    this.#counts = counts;
  }

  /** Bytes read and thrown away, over all connections. */
  get bytesDiscarded(): number {
    return this.#counts.bytes;
  }

  override snapshot(): ServerStats {
    const snapshot = super.snapshot();
    snapshot.outcomes = { ...snapshot.outcomes, 'bytes-discarded': this.#counts.bytes };
    return snapshot;
  }
}

/** A TCP discard server (see {@link DiscardServer}). */
export function createDiscardServer(options: DiscardServerOptions): DiscardServer {
  return new DiscardServer(options);
}

function startDiscarding(
  socket: Socket,
  id: number,
  server: TcpServer,
  idleTimeout: number,
  counts: { bytes: number },
): void {
  socket.setTimeout(idleTimeout, () => socket.destroy(new IdleTimeoutError('idle timeout')));
  socket.on('data', (chunk: Buffer) => {
    counts.bytes += chunk.length;
    if (server.tracing) server.trace('read', id, { bytes: chunk.length }, { socket, data: chunk });
  });
  socket.on('end', () => {
    if (server.tracing) server.trace('eof', id);
    socket.end();
    if (server.tracing) server.trace('shutdown', id);
  });
}

/** What a discard client sent. */
export interface DiscardSent {
  /** Bytes sent. */
  bytes: number;
  /** Datagrams sent (UDP only). */
  datagrams?: number;
}

/** Options of {@link sendDiscard}. */
export interface SendDiscardOptions extends ClassicClientOptions {
  /** What to send: chunks of bytes (a file's or stdin's stream). */
  input: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;
}

/**
 * socket, connect, write all of `input` (waiting for each write to drain), shutdown, wait for the
 * server's close (bounded by `timeout`), close. Resolves with the bytes sent.
 */
export async function sendDiscard(options: SendDiscardOptions): Promise<DiscardSent> {
  const timeout = validateDuration(options.timeout ?? DEFAULT_CLIENT_TIMEOUT_MS, 'timeout');
  const connection = await connectTcp({
    ...streamTargetOf(options),
    timeout,
    signal: options.signal,
    tls: options.tls,
  });
  const { socket, trace } = connection;
  const target = streamTarget(options).target;
  let bytes = 0;
  let failure: Error | undefined;
  const onError = (error: Error) => {
    failure = new WriteError(`${target}: ${describeSystemError(error)}`, { cause: error, call: 'write' });
  };
  socket.on('error', onError);
  try {
    for await (const chunk of options.input) {
      if (failure !== undefined) throw failure;
      const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      if (data.length === 0) continue;
      const flushed = socket.write(data);
      bytes += data.length;
      trace('write', { bytes: data.length }, data);
      if (!flushed) await drained(socket, () => failure);
    }
    if (failure !== undefined) throw failure;
    socket.off('error', onError);
    socket.end();
    trace('shutdown');
    await readUntil(
      connection,
      {
        onChunk: () => undefined,
        onEnd: () => undefined,
        onTimeout: () =>
          new ReadTimeoutError(`${target} did not close within ${timeout} ms`, { call: 'read' }),
      },
      { timeout, signal: options.signal },
    );
    return { bytes };
  } finally {
    socket.off('error', onError);
    const closed = connection.close();
    if (traceChannels.tcpClient.hasSubscribers) await closed;
  }
}

function drained(socket: Socket, failed: () => Error | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      const error = failed();
      if (error !== undefined) reject(error);
      else if (socket.destroyed)
        reject(new WriteError('the connection closed while sending', { call: 'write' }));
      else resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** Options of {@link createUdpDiscardServer}. */
export type UdpDiscardServerOptions = Omit<UdpServerOptions, 'onMessage'>;

/** A UDP discard server: every datagram is received, counted and never answered. Call `listen()`. */
export function createUdpDiscardServer(options: UdpDiscardServerOptions): UdpServer {
  return new UdpServer({ service: 'discard', ...options, onMessage: () => undefined });
}

/** Options of {@link sendUdpDiscard}. */
export interface SendUdpDiscardOptions {
  /** Server address. */
  host: string;
  /** Server port. */
  port: number;
  /** The datagrams to send, each as it is (one per chunk; an empty chunk is an empty datagram). */
  datagrams: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** Aborts sending. */
  signal?: AbortSignal;
}

/** socket, sendto each datagram, close: no reply comes. Resolves with datagrams and bytes sent. */
export async function sendUdpDiscard(options: SendUdpDiscardOptions): Promise<DiscardSent> {
  const client = await connectUdp({ host: options.host, port: options.port, signal: options.signal });
  let datagrams = 0;
  let bytes = 0;
  try {
    for await (const datagram of options.datagrams) {
      await client.send(datagram);
      datagrams++;
      bytes += datagram.length;
    }
    return { datagrams, bytes };
  } finally {
    await client.close();
  }
}
