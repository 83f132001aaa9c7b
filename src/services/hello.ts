import type { Socket } from 'node:net';
import {
  DEFAULT_CLIENT_TIMEOUT_MS,
  DEFAULT_HELLO_MAX_BYTES,
  DEFAULT_HELLO_MESSAGE,
  DEFAULT_IDLE_TIMEOUT_MS,
} from '../defaults.js';
import {
  ClosedWithoutDataError,
  IdleTimeoutError,
  InvalidArgumentError,
  ReadTimeoutError,
} from '../errors.js';
import { encodeHello, HelloDecoder, type HelloEnd } from '../protocol/hello.js';
import { traceChannels } from '../trace/events.js';
import { tracePreview } from '../trace/schema.js';
import { connectTcp, readUntil, streamTarget, streamTargetOf } from '../transport/tcp-client.js';
import { TcpServer, type TcpServerOptions } from '../transport/tcp-server.js';
import type { TlsClientOptions } from '../transport/tls-client.js';
import { validateDuration, validateInteger } from '../validate.js';

/** Options of {@link createHelloServer}. */
export interface HelloServerOptions extends Omit<TcpServerOptions, 'onConnection' | 'pauseOnConnect'> {
  /**
   * The text sent to every client.
   * @default 'Hello World!'
   */
  message?: string;
  /**
   * Send the NUL byte after the text, as the C server does (`sizeof(message)` counts it).
   * @default true
   */
  nul?: boolean;
  /**
   * A client that reads nothing of a long message for this many ms is dropped (a short message
   * never waits: the kernel takes it at once).
   * @default 30000
   */
  idleTimeout?: number;
}

/**
 * A server that sends the hello message to each client and closes the connection, accepting
 * repeatedly. Call `listen()` on the result.
 */
export function createHelloServer(options: HelloServerOptions): TcpServer {
  const message = options.message ?? DEFAULT_HELLO_MESSAGE;
  if (typeof message !== 'string') throw new InvalidArgumentError(`invalid message '${String(message)}'`);
  const payload = encodeHello(message, { nul: options.nul ?? true });
  const idleTimeout = validateDuration(options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_MS, 'idle timeout');
  const text = tracePreview(payload);
  return new TcpServer({
    service: 'hello',
    ...options,
    pauseOnConnect: true,
    onConnection: (connection, server) => {
      // Traced as the write is made, before the bytes can reach the client: a trace of both ends
      // (npm run demo --trace) then shows this write before the client's read.
      if (server.tracing) {
        server.trace(
          'write',
          connection.id,
          { bytes: payload.length, text },
          { socket: connection.socket, data: payload },
        );
      }
      sendHello(connection.socket, payload, idleTimeout);
    },
  });
}

// Write, then close like the C server: if the kernel took all the bytes (it does for a short
// message on a fresh socket), destroy() closes the descriptor at once and the kernel sends the
// data and the FIN; otherwise end() flushes first. Either way we never wait for the client's FIN.
function sendHello(socket: Socket, payload: Buffer, idleTimeout: number): void {
  if ((socket as Socket & { encrypted?: boolean }).encrypted === true) {
    sendHelloOverTls(socket, payload, idleTimeout);
    return;
  }
  socket.write(payload);
  if (socket.writableLength === 0) {
    socket.destroy();
  } else {
    // The socket is paused and will never see the client's FIN, so close once our FIN is out;
    // a client that stops reading altogether is dropped after idleTimeout without progress.
    socket.once('finish', destroySocket);
    socket.setTimeout(idleTimeout, dropIdleSocket);
    socket.end();
  }
}

// Over TLS the message leaves in a record after the handshake, with the session tickets of TLS
// 1.3: a close that did not wait for them to go, or that left the client's last records unread,
// would reset the connection and the client could lose the message. So: end (close_notify and
// FIN once the record is out), read and drop what the client still sends, and close when it does,
// bounded by idleTimeout.
function sendHelloOverTls(socket: Socket, payload: Buffer, idleTimeout: number): void {
  socket.setTimeout(idleTimeout, dropIdleSocket);
  socket.end(payload);
  socket.resume();
}

function destroySocket(this: Socket): void {
  this.destroy();
}

function dropIdleSocket(this: Socket): void {
  this.destroy(new IdleTimeoutError('idle timeout'));
}

/** Options of {@link fetchHello}. */
export interface FetchHelloOptions {
  /** Server address: IPv4 or IPv6 literal or host name. */
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
  /**
   * Most bytes to read while looking for the NUL.
   * @default 65536
   */
  maxBytes?: number;
  /** Aborts the exchange. */
  signal?: AbortSignal;
  /** Speak TLS: verify the server's certificate (see {@link TlsClientOptions}). */
  tls?: TlsClientOptions;
}

/** What the hello client received. */
export interface HelloReply {
  /** The message bytes up to the first NUL (what the C client prints). */
  message: Buffer;
  /** The message as UTF-8 text. */
  text: string;
  /** What ended the message: a NUL, the server closing, or the size limit. */
  end: HelloEnd;
}

/**
 * socket, connect, read, close: fetches the hello message. Reads across TCP segments until a NUL,
 * EOF or `maxBytes`. Rejects with the errors of `connectTcp`, {@link ReadTimeoutError} if the
 * server falls silent in time (with what arrived, in its `received`), or {@link ClosedWithoutDataError} if it closes without sending.
 */
export async function fetchHello(options: FetchHelloOptions): Promise<HelloReply> {
  const timeout = validateDuration(options.timeout ?? DEFAULT_CLIENT_TIMEOUT_MS, 'timeout');
  const maxBytes = validateInteger(options.maxBytes ?? DEFAULT_HELLO_MAX_BYTES, 'max bytes', 1, 2 ** 30);
  const connection = await connectTcp({
    ...streamTargetOf(options),
    timeout,
    signal: options.signal,
    tls: options.tls,
  });
  const target = streamTarget(options).target;
  const decoder = new HelloDecoder(maxBytes);
  try {
    const frame = await readUntil(
      connection,
      {
        onChunk: (chunk) => decoder.push(chunk),
        onEnd: () => {
          const frame = decoder.end();
          if (frame === undefined) {
            throw new ClosedWithoutDataError(`${target} closed the connection without sending anything`, {
              call: 'read',
            });
          }
          return frame;
        },
        onTimeout: () =>
          new ReadTimeoutError(
            decoder.receivedBytes === 0
              ? `${target} sent nothing within ${timeout} ms`
              : `${target} stopped sending for ${timeout} ms after ${decoder.receivedBytes} bytes`,
            { call: 'read', received: decoder.received() },
          ),
      },
      { timeout, signal: options.signal },
    );
    return { message: frame.message, text: frame.message.toString('utf8'), end: frame.end };
  } finally {
    // destroy() closes the descriptor at once. Node reports 'close' a turn later; wait for it only
    // when someone traces, so that step 4 is published before we return.
    const closed = connection.close();
    if (traceChannels.tcpClient.hasSubscribers) await closed;
  }
}
