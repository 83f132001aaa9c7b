/**
 * The TCP client side of the lecture: socket() and connect() with a timeout, errors mapped to the
 * library's codes, and trace events for each step. It knows nothing of the service spoken over it.
 */
import { connect, type Socket } from 'node:net';
import { DEFAULT_CLIENT_TIMEOUT_MS } from '../defaults.js';
import {
  AbortError,
  ConnectError,
  ConnectionRefusedError,
  ConnectTimeoutError,
  describeSystemError,
  InvalidArgumentError,
  ReadError,
  ResolveError,
  type SocketStepsError,
  systemCodeOf,
} from '../errors.js';
import { bytesChannel } from '../trace/bytes.js';
import {
  makeTraceEvent,
  newEndpointId,
  type TraceActionOf,
  type TraceEventInit,
  toTraceAddress,
  traceChannels,
} from '../trace/events.js';
import { parseUnixAddress } from '../unix-address.js';
import { formatAddress, validateDuration, validateHost, validatePort } from '../validate.js';
import { publishSocketBytes } from './socket-bytes.js';
import {
  startTls,
  type TlsClientOptions,
  type TlsClientResult,
  validateTlsClientOptions,
} from './tls-client.js';

/** Options of {@link connectTcp}. */
export interface TcpConnectOptions {
  /** Server address: an IPv4 or IPv6 literal, or a host name. Give `host` and `port`, or `path`. */
  host?: string;
  /** Server port, 1 to 65535. */
  port?: number;
  /**
   * A Unix domain stream socket to connect to instead: a file-system path, or `@name` (or Node's
   * `\0name`) for Linux's abstract namespace.
   */
  path?: string;
  /**
   * Milliseconds to wait for the connection to be established.
   * @default 5000
   */
  timeout?: number;
  /** Aborts the attempt. */
  signal?: AbortSignal;
  /** Speak TLS over the connection: the handshake runs after connect(), before it resolves. */
  tls?: TlsClientOptions;
}

/** A connected client socket with its trace helpers. */
export interface TcpClientConnection {
  /** The connected socket, paused: the caller reads. With TLS, the TLS socket (which owns the TCP one). */
  socket: Socket;
  /** With TLS: what the handshake agreed on and verified, and the session to resume with. */
  tls?: Omit<TlsClientResult, 'socket'>;
  /**
   * Publishes a trace event for this connection, if anyone listens. A `read` or `write` given the
   * bytes (`data`) also publishes them on the bytes channel, after the event, if anyone listens there.
   */
  trace(action: TraceActionOf<'tcp', 'client'>, fields?: Partial<TraceEventInit>, data?: Uint8Array): void;
  /**
   * Destroys the socket (client step 4) and resolves once Node has reported its close, so that the
   * close is traced before the caller returns. Safe to call more than once.
   */
  close(): Promise<void>;
}

/**
 * socket() and connect(). Resolves with the connected socket; rejects with
 * {@link ConnectionRefusedError}, {@link ConnectTimeoutError}, {@link ResolveError},
 * {@link ConnectError} or {@link AbortError}. The socket traces its own close (client step 4).
 */
export function connectTcp(options: TcpConnectOptions): Promise<TcpClientConnection> {
  const where = streamTarget(options);
  const timeout = validateDuration(options.timeout ?? DEFAULT_CLIENT_TIMEOUT_MS, 'timeout');
  if (options.tls !== undefined) validateTlsClientOptions(options.tls);
  const endpoint = newEndpointId();
  const channel = traceChannels.tcpClient;
  // The socket, once made: the bytes channel's messages name its peer and hold its reading.
  let dumped: Socket | undefined;
  const trace = (
    action: TraceActionOf<'tcp', 'client'>,
    fields: Partial<TraceEventInit> = {},
    data?: Uint8Array,
  ) => {
    if (channel.hasSubscribers) {
      channel.publish(makeTraceEvent({ transport: 'tcp', role: 'client', action, endpoint, ...fields }));
    }
    if (data !== undefined && dumped !== undefined && bytesChannel.hasSubscribers) {
      if (action !== 'read' && action !== 'write') return;
      const remote = toTraceAddress(dumped.remoteAddress, dumped.remotePort, dumped.remoteFamily);
      publishSocketBytes(
        { transport: 'tcp', role: 'client', endpoint, direction: action, remote, ...unixPath, data },
        dumped,
      );
    }
  };
  const { target } = where;
  const unixPath = where.kind === 'unix' ? { path: where.display } : {};

  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new AbortError(`connecting to ${target} was aborted`, { call: 'connect' }));
      return;
    }
    trace('socket', { combinedIn: 'net.connect()', ...unixPath });
    const socket =
      where.kind === 'unix' ? connect({ path: where.path }) : connect({ host: where.host, port: where.port });
    dumped = socket;
    let settled = false;
    const fail = (error: SocketStepsError) => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onAbort = () => fail(new AbortError(`connecting to ${target} was aborted`, { call: 'connect' }));
    const onTimeout = () =>
      fail(new ConnectTimeoutError(`${target}: no answer within ${timeout} ms`, { call: 'connect' }));
    const onError = (error: Error) =>
      fail(mapConnectError(error, where.kind === 'ip' ? where.host : target, target));
    const onConnect = () => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.pause();
      // Between reads nobody else listens: a reset then must not be an unhandled 'error' event.
      // The error stays on `socket.errored`, and the next read reports it.
      socket.on('error', ignoreError);
      const closed = new Promise<void>((resolveClosed) => {
        socket.once('close', () => {
          trace('close', { reason: socket.errored ? describeSystemError(socket.errored) : 'done' });
          resolveClosed();
        });
      });
      trace(
        'connect',
        where.kind === 'unix'
          ? unixPath
          : {
              local: toTraceAddress(socket.localAddress, socket.localPort, socket.localFamily),
              remote: toTraceAddress(socket.remoteAddress, socket.remotePort, socket.remoteFamily),
            },
      );
      if (options.tls === undefined) {
        const close = () => {
          socket.destroy();
          return closed;
        };
        resolve({ socket, trace, close });
        return;
      }
      startTls(socket, where.kind === 'unix' ? undefined : where.host, options.tls, options.signal).then(
        (result) => {
          const secure = result.socket;
          secure.on('error', ignoreError);
          trace('handshake', { tls: result.details });
          const close = () => {
            secure.destroy();
            return closed;
          };
          resolve({
            socket: secure,
            trace,
            close,
            tls: { details: result.details, session: result.session },
          });
        },
        (error: SocketStepsError) => {
          trace('error', { reason: error.message });
          socket.destroy();
          reject(error);
        },
      );
    };
    const timer = setTimeout(onTimeout, timeout);
    const cleanup = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off('connect', onConnect);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once('connect', onConnect);
  });
}

/** Where a stream client connects: an IP host and port, or a Unix socket, with how messages name it. */
export type StreamTarget =
  | { kind: 'ip'; host: string; port: number; target: string }
  | { kind: 'unix'; path: string; display: string; target: string };

/**
 * Checks a client's `host` and `port`, or its Unix socket `path` (exactly one of the two ways),
 * and names the target as messages do: `127.0.0.1:9190`, `[::1]:9190`, `/run/h.sock`, `@name`.
 */
export function streamTarget(options: { host?: string; port?: number; path?: string }): StreamTarget {
  if (options.path !== undefined) {
    if (options.host !== undefined || options.port !== undefined) {
      throw new InvalidArgumentError('give a host and port, or a Unix socket path, not both');
    }
    const unix = parseUnixAddress(options.path);
    return { kind: 'unix', path: unix.path, display: unix.display, target: unix.display };
  }
  if (options.host === undefined || options.port === undefined) {
    throw new InvalidArgumentError('give a host and port, or a Unix socket path');
  }
  const host = validateHost(options.host);
  const port = validatePort(options.port, { allowZero: false });
  return { kind: 'ip', host, port, target: formatAddress(host, port) };
}

/** A client's `host`, `port` and `path` alone, for {@link connectTcp} (the other options left out). */
export function streamTargetOf(options: { host?: string; port?: number; path?: string }): {
  host?: string;
  port?: number;
  path?: string;
} {
  const { host, port, path } = options;
  return {
    ...(host === undefined ? {} : { host }),
    ...(port === undefined ? {} : { port }),
    ...(path === undefined ? {} : { path }),
  };
}

function mapConnectError(error: Error, host: string, target: string): SocketStepsError {
  const code = systemCodeOf(error);
  const reason = describeSystemError(error);
  if (code === 'ECONNREFUSED')
    return new ConnectionRefusedError(`${target}: ${reason}`, { cause: error, call: 'connect' });
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NODATA') {
    return new ResolveError(`cannot resolve '${host}': ${reason}`, { cause: error, call: 'connect' });
  }
  if (code === 'ETIMEDOUT')
    return new ConnectTimeoutError(`${target}: ${reason}`, { cause: error, call: 'connect' });
  // With several addresses to try (happy eyeballs), Node reports an AggregateError of them all.
  if (error instanceof AggregateError && error.errors.every((e) => systemCodeOf(e) === 'ECONNREFUSED')) {
    return new ConnectionRefusedError(`${target}: connection refused (ECONNREFUSED)`, {
      cause: error,
      call: 'connect',
    });
  }
  return new ConnectError(`${target}: ${reason}`, { cause: error, call: 'connect' });
}

/** Options of {@link readWithTimeout}. */
export interface ReadLoopOptions {
  /** Milliseconds without any data before giving up. */
  timeout: number;
  /** Aborts the read. */
  signal?: AbortSignal;
}

/**
 * Reads chunks from a paused socket and feeds them to `onChunk` until it returns a value (the
 * result) or the peer closes (then `onEnd` decides). A silence of `timeout` ms between chunks
 * rejects with {@link ReadTimeoutError}-like errors made by `onTimeout`.
 */
export function readUntil<T>(
  connection: TcpClientConnection,
  handlers: {
    onChunk(chunk: Buffer): T | undefined;
    onEnd(): T;
    onTimeout(): SocketStepsError;
  },
  options: ReadLoopOptions,
): Promise<T> {
  const { socket, trace } = connection;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (value: T | undefined, error?: unknown) => {
      if (settled) return;
      settled = true;
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.off('timeout', onTimeout);
      options.signal?.removeEventListener('abort', onAbort);
      socket.setTimeout(0);
      if (error === undefined) resolve(value as T);
      else reject(error);
    };
    const onData = (chunk: Buffer) => {
      trace('read', { bytes: chunk.length }, chunk);
      try {
        const result = handlers.onChunk(chunk);
        if (result !== undefined) finish(result);
      } catch (error) {
        finish(undefined, error);
      }
    };
    const onEnd = () => {
      trace('eof');
      try {
        finish(handlers.onEnd());
      } catch (error) {
        finish(undefined, error);
      }
    };
    const onError = (error: Error) =>
      finish(undefined, new ReadError(describeSystemError(error), { cause: error, call: 'read' }));
    const onTimeout = () => finish(undefined, handlers.onTimeout());
    const onAbort = () => finish(undefined, new AbortError('reading was aborted', { call: 'read' }));
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    if (socket.destroyed) {
      // Reset or closed while nobody was reading (see connectTcp).
      const cause = socket.errored ?? undefined;
      const reason = cause === undefined ? 'the connection is already closed' : describeSystemError(cause);
      finish(undefined, new ReadError(reason, { cause, call: 'read' }));
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.setTimeout(options.timeout, onTimeout);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onError);
    socket.resume();
  });
}

function ignoreError(): void {}
