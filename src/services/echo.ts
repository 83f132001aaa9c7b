import type { Socket } from 'node:net';
import {
  DEFAULT_CLIENT_TIMEOUT_MS,
  DEFAULT_ECHO_HIGH_WATER_MARK,
  DEFAULT_IDLE_TIMEOUT_MS,
} from '../defaults.js';
import {
  ConnectionClosedError,
  IdleTimeoutError,
  InvalidArgumentError,
  ReadTimeoutError,
} from '../errors.js';
import { tracePreview } from '../trace/schema.js';
import type { ServerStats } from '../transport/stats.js';
import {
  connectTcp,
  readUntil,
  streamTarget,
  streamTargetOf,
  type TcpClientConnection,
} from '../transport/tcp-client.js';
import { TcpServer, type TcpServerOptions } from '../transport/tcp-server.js';
import type { TlsClientOptions } from '../transport/tls-client.js';
import { validateDuration } from '../validate.js';

/** Options of {@link createEchoServer}. */
export interface EchoServerOptions
  extends Omit<TcpServerOptions, 'onConnection' | 'pauseOnConnect' | 'allowHalfOpen'> {
  /**
   * A connection on which nothing is read or written for this many ms is closed.
   * @default 30000
   */
  idleTimeout?: number;
  /**
   * Bytes queued for sending back to one client before the server stops reading from it until
   * they drain. A slow reader costs at most this plus one read (64 KiB) of memory.
   * @default 65536
   */
  highWaterMark?: number;
  /**
   * Called when the server stops reading from connection `id` because the client is slow to read
   * its echo (backpressure), with the bytes then queued for it. For monitoring and tests.
   */
  onPause?: (id: number, bufferedBytes: number) => void;
}

/** Counters of an echo server, for monitoring and tests. */
export interface EchoStats {
  /** Bytes received and sent back, over all connections. */
  readonly bytesEchoed: number;
  /** The most bytes ever queued for sending on one connection (bounded by backpressure). */
  readonly peakBufferedBytes: number;
  /** How many times reading was paused because the client was slow to read. */
  readonly pauses: number;
}

/**
 * A TCP server running the echo service, with its counters. Reading from a client pauses while
 * the echo waits to be sent (backpressure), so memory per client stays bounded. A connection past
 * `maxConnections` is closed without any bytes. Call `listen()`.
 */
export class EchoServer extends TcpServer {
  readonly #stats: { bytesEchoed: number; peakBufferedBytes: number; pauses: number };

  constructor(options: EchoServerOptions) {
    const idleTimeout = validateDuration(options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_MS, 'idle timeout');
    const stats = { bytesEchoed: 0, peakBufferedBytes: 0, pauses: 0 };
    const settings: EchoSessionSettings = { stats, onPause: options.onPause };
    super({
      service: 'echo',
      ...options,
      // An echo of an unexpected text would look like the client's own data: refuse without bytes.
      refusal: options.refusal ?? new Uint8Array(0),
      highWaterMark: options.highWaterMark ?? DEFAULT_ECHO_HIGH_WATER_MARK,
      allowHalfOpen: true,
      onConnection: ({ socket, id }, server) => startEchoSession(socket, id, server, idleTimeout, settings),
    });
    this.#stats = stats;
  }

  /** Live counters of the echo service (also in `snapshot().outcomes`). */
  get stats(): EchoStats {
    return this.#stats;
  }

  override snapshot(): ServerStats {
    const snapshot = super.snapshot();
    snapshot.outcomes = {
      ...snapshot.outcomes,
      'bytes-echoed': this.#stats.bytesEchoed,
      pauses: this.#stats.pauses,
      'peak-buffered-bytes': this.#stats.peakBufferedBytes,
    };
    return snapshot;
  }
}

/** A server that echoes every byte back to each client, accepting repeatedly (see {@link EchoServer}). */
export function createEchoServer(options: EchoServerOptions): EchoServer {
  return new EchoServer(options);
}

/** What every session of one server shares. */
interface EchoSessionSettings {
  readonly stats: { bytesEchoed: number; peakBufferedBytes: number; pauses: number };
  readonly onPause: ((id: number, bufferedBytes: number) => void) | undefined;
}

/** One connection: what the listeners that all sessions share need to know about it. */
interface EchoServerSession {
  readonly id: number;
  readonly server: TcpServer;
  readonly settings: EchoSessionSettings;
}

// Where a socket keeps its session: an idle connection then holds one small object, not a closure
// per event and the context they capture.
const kSession = Symbol('echo session');
type SessionSocket = Socket & { [kSession]?: EchoServerSession };

function startEchoSession(
  socket: SessionSocket,
  id: number,
  server: TcpServer,
  idleTimeout: number,
  settings: EchoSessionSettings,
): void {
  socket[kSession] = { id, server, settings };
  // on(), not setTimeout's callback: that adds it with once(), which wraps it in a closure per socket.
  socket.setTimeout(idleTimeout);
  socket.on('timeout', dropIdleSocket);
  socket.on('data', echoChunk);
  socket.on('end', endEcho);
}

function echoChunk(this: SessionSocket, chunk: Buffer): void {
  const session = this[kSession];
  if (session === undefined) return;
  const { id, server, settings } = session;
  const { stats } = settings;
  const text = server.tracing ? tracePreview(chunk) : undefined;
  if (text !== undefined)
    server.trace('read', id, { bytes: chunk.length, text }, { socket: this, data: chunk });
  const flushed = this.write(chunk);
  if (text !== undefined)
    server.trace('write', id, { bytes: chunk.length, text }, { socket: this, data: chunk });
  stats.bytesEchoed += chunk.length;
  if (this.writableLength > stats.peakBufferedBytes) stats.peakBufferedBytes = this.writableLength;
  if (!flushed) {
    stats.pauses++;
    this.pause();
    this.once('drain', resumeSocket);
    settings.onPause?.(id, this.writableLength);
  }
}

// The client shut down its write side: end() sends what is still queued, then our FIN.
function endEcho(this: SessionSocket): void {
  const session = this[kSession];
  if (session?.server.tracing) session.server.trace('eof', session.id);
  this.end();
  if (session?.server.tracing) session.server.trace('shutdown', session.id);
}

function resumeSocket(this: Socket): void {
  this.resume();
}

function dropIdleSocket(this: Socket): void {
  this.destroy(new IdleTimeoutError('idle timeout'));
}

/** Options of {@link openEcho}. */
export interface EchoClientOptions {
  /** Server address: IPv4 or IPv6 literal or host name. */
  host?: string;
  /** Server port. */
  port?: number;
  /** A Unix domain socket to connect to instead of `host` and `port`: a path, or `@name` (abstract). */
  path?: string;
  /**
   * Milliseconds allowed for connect(), and then between chunks while waiting for an echo.
   * @default 5000
   */
  timeout?: number;
  /** Aborts connecting and any echo in progress. */
  signal?: AbortSignal;
  /** Speak TLS: verify the server's certificate (see {@link TlsClientOptions}). */
  tls?: TlsClientOptions;
}

/** A connection to an echo server. */
export interface EchoSession {
  /** Sends `data` and resolves with the same number of bytes read back. One echo at a time. */
  echo(data: Uint8Array): Promise<Buffer>;
  /**
   * Shuts down our write side, waits (bounded by the timeout) for the server to close, then closes.
   * Safe to call more than once.
   */
  close(): Promise<void>;
}

/**
 * socket() and connect() to an echo server. Then `echo()` writes and reads until every byte has
 * come back: it rejects with {@link ConnectionClosedError} if the server closes first, or
 * {@link ReadTimeoutError} if it stops sending for the timeout.
 */
export async function openEcho(options: EchoClientOptions): Promise<EchoSession> {
  const timeout = validateDuration(options.timeout ?? DEFAULT_CLIENT_TIMEOUT_MS, 'timeout');
  const connection = await connectTcp({
    ...streamTargetOf(options),
    timeout,
    signal: options.signal,
    tls: options.tls,
  });
  return new EchoConnection(connection, streamTarget(options).target, timeout, options.signal);
}

class EchoConnection implements EchoSession {
  readonly #connection: TcpClientConnection;
  readonly #target: string;
  readonly #timeout: number;
  readonly #signal: AbortSignal | undefined;
  // Bytes that arrived beyond the echo being read (the server may send ahead): kept for the next.
  #leftover: Buffer = Buffer.alloc(0);
  #closing: Promise<void> | undefined;
  #busy = false;

  constructor(
    connection: TcpClientConnection,
    target: string,
    timeout: number,
    signal: AbortSignal | undefined,
  ) {
    this.#connection = connection;
    this.#target = target;
    this.#timeout = timeout;
    this.#signal = signal;
  }

  async echo(data: Uint8Array): Promise<Buffer> {
    if (this.#closing !== undefined) throw new InvalidArgumentError('echo() after close()');
    if (this.#busy) throw new InvalidArgumentError('echo() while another echo() is in progress');
    this.#busy = true;
    try {
      return await this.#echo(data);
    } finally {
      this.#busy = false;
    }
  }

  async #echo(data: Uint8Array): Promise<Buffer> {
    const { socket, trace } = this.#connection;
    const expected = data.length;
    socket.write(data);
    trace('write', { bytes: expected }, data);
    const parts: Buffer[] = [];
    let received = 0;
    const take = (chunk: Buffer): Buffer | undefined => {
      const need = expected - received;
      parts.push(chunk.subarray(0, need));
      received += Math.min(need, chunk.length);
      if (chunk.length > need) this.#leftover = Buffer.from(chunk.subarray(need));
      return received === expected ? Buffer.concat(parts, expected) : undefined;
    };
    const leftover = this.#leftover;
    this.#leftover = Buffer.alloc(0);
    const early = leftover.length > 0 || expected === 0 ? take(leftover) : undefined;
    if (early !== undefined) return early;
    const result = await readUntil(
      this.#connection,
      {
        onChunk: (chunk) => {
          const done = take(chunk);
          // Stop the flow before returning, so that no chunk is emitted with nobody listening.
          if (done !== undefined) socket.pause();
          return done;
        },
        onEnd: () => {
          throw new ConnectionClosedError(
            `${this.#target} closed the connection after echoing ${received} of ${expected} bytes`,
            { call: 'read' },
          );
        },
        onTimeout: () =>
          new ReadTimeoutError(
            `${this.#target} echoed ${received} of ${expected} bytes, then nothing for ${this.#timeout} ms`,
            { call: 'read' },
          ),
      },
      { timeout: this.#timeout, signal: this.#signal },
    );
    return result;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const { socket, trace } = this.#connection;
    try {
      // After the server's EOF there is nothing to wait for (and no second 'end' to wait on).
      if (!socket.destroyed && !socket.readableEnded) {
        socket.end();
        trace('shutdown');
        await readUntil(
          this.#connection,
          {
            onChunk: () => undefined,
            onEnd: () => undefined,
            onTimeout: () =>
              new ReadTimeoutError(`${this.#target} did not close within ${this.#timeout} ms`, {
                call: 'read',
              }),
          },
          { timeout: this.#timeout, signal: this.#signal },
        );
      }
    } finally {
      await this.#connection.close();
    }
  }
}
