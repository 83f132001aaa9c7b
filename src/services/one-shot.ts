/**
 * What the classic services that speak once share (daytime, time, qotd over TCP; those and
 * chargen over UDP): a server that writes one reply to each client and closes first, as hello
 * does; a client that reads until the server's close; a UDP client that sends one datagram and
 * takes one back.
 */
import type { Socket } from 'node:net';
import {
  DEFAULT_CLIENT_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_UDP_RETRIES,
  DEFAULT_UDP_TIMEOUT_MS,
} from '../defaults.js';
import { IdleTimeoutError, ProtocolError, ReadTimeoutError } from '../errors.js';
import { traceChannels } from '../trace/events.js';
import { tracePreview } from '../trace/schema.js';
import { connectTcp, readUntil, streamTarget, streamTargetOf } from '../transport/tcp-client.js';
import { TcpServer, type TcpServerOptions } from '../transport/tcp-server.js';
import type { TlsClientOptions } from '../transport/tls-client.js';
import { connectUdp, type UdpRetry } from '../transport/udp-client.js';
import { validateDuration, validateInteger } from '../validate.js';

/** Options of the servers that send one reply and close (daytime, time, qotd over TCP). */
export interface OneShotServerOptions extends Omit<TcpServerOptions, 'onConnection' | 'pauseOnConnect'> {
  /**
   * A client that reads nothing of a reply too long for the kernel to take at once is dropped
   * after this many ms (a short reply never waits).
   * @default 30000
   */
  idleTimeout?: number;
}

/**
 * A TCP server that writes `reply()` to each client and closes the connection, server first
 * (the client's bytes, if any, are never read). `service` names it in stats and the trace.
 */
export function createOneShotServer(
  service: string,
  options: OneShotServerOptions,
  reply: () => Uint8Array,
  { text = true }: { text?: boolean } = {},
): TcpServer {
  const idleTimeout = validateDuration(options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_MS, 'idle timeout');
  return new TcpServer({
    service,
    ...options,
    // A refusal that looks like a reply would be taken for one: refuse without bytes.
    refusal: options.refusal ?? new Uint8Array(0),
    pauseOnConnect: true,
    onConnection: (connection, server) => {
      const payload = reply();
      if (server.tracing) {
        server.trace(
          'write',
          connection.id,
          { bytes: payload.length, ...(text ? { text: tracePreview(payload) } : {}) },
          { socket: connection.socket, data: payload },
        );
      }
      sendAndClose(connection.socket, payload, idleTimeout);
    },
  });
}

// As hello does: all taken by the kernel (a short reply on a fresh socket), destroy() closes at
// once and the kernel sends the bytes and the FIN; else end() flushes first, bounded by idleTimeout.
function sendAndClose(socket: Socket, payload: Uint8Array, idleTimeout: number): void {
  if ((socket as Socket & { encrypted?: boolean }).encrypted === true) {
    // Over TLS, as hello does: end (close_notify, FIN), read and drop what the client still sends,
    // close when it does; a reset would lose the reply's record at the client.
    socket.setTimeout(idleTimeout, dropIdleSocket);
    socket.end(payload);
    socket.resume();
    return;
  }
  socket.write(payload);
  if (socket.writableLength === 0) {
    socket.destroy();
    return;
  }
  socket.once('finish', destroySocket);
  socket.setTimeout(idleTimeout, dropIdleSocket);
  socket.end();
}

function destroySocket(this: Socket): void {
  this.destroy();
}

function dropIdleSocket(this: Socket): void {
  this.destroy(new IdleTimeoutError('idle timeout'));
}

/** Where a client connects, and its bounds. */
export interface ClassicClientOptions {
  /** Server address: IPv4 or IPv6 literal or host name. Give `host` and `port`, or `path`. */
  host?: string;
  /** Server port. */
  port?: number;
  /** A Unix domain socket to connect to instead of `host` and `port`: a path, or `@name` (abstract). */
  path?: string;
  /**
   * Milliseconds allowed for connect(), and then between chunks while reading.
   * @default 5000
   */
  timeout?: number;
  /** Aborts the exchange. */
  signal?: AbortSignal;
  /** Speak TLS: verify the server's certificate (see {@link TlsClientOptions}). */
  tls?: TlsClientOptions;
}

/**
 * socket, connect, read until the server closes, close: the whole reply of a service that speaks
 * once. More than `maxBytes` is a {@link ProtocolError}; a silence of `timeout` ms a
 * {@link ReadTimeoutError}. `what` names the reply in messages (`a daytime reply`).
 */
export async function readUntilClose(
  options: ClassicClientOptions,
  maxBytes: number,
  what: string,
): Promise<Buffer> {
  const timeout = validateDuration(options.timeout ?? DEFAULT_CLIENT_TIMEOUT_MS, 'timeout');
  validateInteger(maxBytes, 'max bytes', 1, 2 ** 30);
  const connection = await connectTcp({
    ...streamTargetOf(options),
    timeout,
    signal: options.signal,
    tls: options.tls,
  });
  const target = streamTarget(options).target;
  const parts: Buffer[] = [];
  let received = 0;
  try {
    return await readUntil(
      connection,
      {
        onChunk: (chunk) => {
          received += chunk.length;
          if (received > maxBytes) {
            throw new ProtocolError(`${target} sent more than ${maxBytes} bytes: too long for ${what}`, {
              call: 'read',
            });
          }
          parts.push(chunk);
          return undefined;
        },
        onEnd: () => Buffer.concat(parts, received),
        onTimeout: () =>
          new ReadTimeoutError(
            received === 0
              ? `${target} sent nothing within ${timeout} ms`
              : `${target} stopped sending for ${timeout} ms after ${received} bytes`,
            { call: 'read', received: Buffer.concat(parts, received) },
          ),
      },
      { timeout, signal: options.signal },
    );
  } finally {
    const closed = connection.close();
    if (traceChannels.tcpClient.hasSubscribers) await closed;
  }
}

/** Where a UDP client sends, and its bounds. */
export interface ClassicUdpClientOptions {
  /** Server address: IPv4 or IPv6 literal or host name. */
  host: string;
  /** Server port. */
  port: number;
  /**
   * Milliseconds to wait for the reply before sending the request again.
   * @default 1000
   */
  timeout?: number;
  /**
   * How many times to send the request again after a timeout.
   * @default 3
   */
  retries?: number;
  /** Aborts the exchange. */
  signal?: AbortSignal;
  /** Called as each retry is sent. */
  onRetry?: (retry: UdpRetry) => void;
}

/** socket, sendto `request` (empty by default), recvfrom the reply, close. */
export async function requestUdp(
  options: ClassicUdpClientOptions,
  request: Uint8Array = new Uint8Array(0),
): Promise<Buffer> {
  const client = await connectUdp({ host: options.host, port: options.port, signal: options.signal });
  try {
    return await client.request(request, {
      timeout: options.timeout ?? DEFAULT_UDP_TIMEOUT_MS,
      retries: options.retries ?? DEFAULT_UDP_RETRIES,
      signal: options.signal,
      ...(options.onRetry === undefined ? {} : { onRetry: options.onRetry }),
    });
  } finally {
    await client.close();
  }
}
