/**
 * One accepted TCP connection as a service sees it, and the pipeline stages that may run before
 * the service does (a PROXY protocol header, for instance): they read their bytes first, hold the
 * service until they finish, and may say who the client really is.
 */
import type { Socket } from 'node:net';
import { ProtocolError, ReadTimeoutError } from '../errors.js';
import type { PrefixResult } from '../protocol/prefix-result.js';
import { type TraceAddress, toTraceAddress } from '../trace/events.js';
import type { TraceTls } from '../trace/schema.js';

/** An accepted connection: its number, its addresses and its socket. */
export class Connection {
  /** Numbers connections from 1 in accept order, per server. */
  readonly id: number;
  /**
   * The socket, paused if the server was built with `pauseOnConnect`: after a TLS stage, the
   * decrypted TLS socket (which owns the accepted one).
   */
  get socket(): Socket {
    return this.#socket;
  }
  #socket: Socket;
  /** What the TLS handshake agreed on, once a TLS stage has run. */
  tls: TraceTls | undefined;
  /**
   * The path of the Unix domain socket it was accepted on (`@name` for an abstract one), or
   * undefined on TCP. Such a connection has no IP addresses: `local` and `remote` stay undefined
   * unless a stage names the client.
   */
  readonly unixPath: string | undefined;
  // Only tracing and the pipeline's stages ask for addresses or mark a connection: most never
  // make this object, and an idle connection holds two fields.
  #details: ConnectionDetails | undefined;

  constructor(id: number, socket: Socket, unixPath?: string) {
    this.id = id;
    this.#socket = socket;
    this.unixPath = unixPath;
  }

  /**
   * For a stage: from now on the service reads and writes `socket` (a TLS socket wrapping the
   * accepted one), and `tls` says what its handshake agreed on. The addresses stay the accepted
   * socket's, read now.
   */
  upgradeSocket(socket: Socket, tls: TraceTls): void {
    this.#details ??= {};
    this.#details.local ??= toTraceAddress(
      this.#socket.localAddress,
      this.#socket.localPort,
      this.#socket.localFamily,
    );
    socketPeer(this.#socket, this.#details);
    this.#socket = socket;
    this.tls = tls;
  }

  /** Our side's address, as the socket has it. */
  get local(): TraceAddress | undefined {
    this.#details ??= {};
    this.#details.local ??= toTraceAddress(
      this.socket.localAddress,
      this.socket.localPort,
      this.socket.localFamily,
    );
    return this.#details.local;
  }

  /** The client: as a stage reported it (from a proxy's header), else the socket's peer. */
  get remote(): TraceAddress | undefined {
    this.#details ??= {};
    return this.#details.client ?? socketPeer(this.socket, this.#details);
  }

  /** The proxy the client came through: the socket's peer, once a stage has named the client. */
  get proxy(): TraceAddress | undefined {
    if (this.#details?.client === undefined) return undefined;
    return socketPeer(this.socket, this.#details);
  }

  /** For a stage: from now on `remote` is `client`, and the socket's peer is the `proxy`. */
  setClient(client: TraceAddress): void {
    this.#details ??= {};
    socketPeer(this.socket, this.#details); // read it before anything can change the socket
    this.#details.client = client;
  }

  /**
   * True once a stage has found that a proxy opened this connection for itself (a health check):
   * it is served, but counted apart from clients and never as an error.
   */
  get healthCheck(): boolean {
    return this.#details?.healthCheck === true;
  }

  /** For a stage: marks the connection as a proxy's health check (see {@link healthCheck}). */
  markHealthCheck(): void {
    this.#details ??= {};
    this.#details.healthCheck = true;
  }
}

/** What a connection learns about itself beyond its number and socket. */
interface ConnectionDetails {
  local?: TraceAddress | undefined;
  peer?: TraceAddress | undefined;
  client?: TraceAddress;
  healthCheck?: boolean;
}

function socketPeer(socket: Socket, details: ConnectionDetails): TraceAddress | undefined {
  details.peer ??= toTraceAddress(socket.remoteAddress, socket.remotePort, socket.remoteFamily);
  return details.peer;
}

/**
 * A step that runs on each connection before the service, in order. It may read from the socket
 * (with {@link readPrefix}) and call `connection.setClient()`. Resolving lets the next stage, then
 * the service, run; rejecting closes the connection unserved. The error's `code` is what the
 * server's stats count and the close trace gives as the reason.
 */
export interface ConnectionStage {
  /** A short name, for messages. */
  readonly name: string;
  /**
   * Runs the stage on a new connection. A rejection closes the connection unserved; when the
   * error has `resetConnection: true` the server resets it (RST) instead of closing it.
   */
  run(connection: Connection): Promise<void>;
  /** The stage's own counters, for the server's snapshot (under `stages`, by the stage's name). */
  stats?(): Record<string, number>;
}

export type { PrefixResult };

/** Options of {@link readPrefix}. */
export interface ReadPrefixOptions {
  /** Rejects with a ReadTimeoutError (code ERR_READ_TIMEOUT) when the prefix is not complete within this many ms. */
  timeout: number;
  /** What the prefix is, for messages ("PROXY header"). */
  what: string;
}

/**
 * Reads a prefix from a paused socket: feeds each chunk to `parse` (a streaming parser that keeps
 * its own state) until it is done, puts the bytes past the prefix back (`unshift`) for the service,
 * and leaves the socket paused. Never reads more than the chunks the kernel gave. Rejects when the
 * parser throws, the client closes first, the socket fails, or `timeout` passes.
 */
export function readPrefix<T>(
  socket: Socket,
  parse: (chunk: Buffer) => PrefixResult<T>,
  { timeout, what }: ReadPrefixOptions,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
    };
    const fail = (error: Error) => {
      cleanup();
      socket.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      let result: PrefixResult<T>;
      try {
        result = parse(chunk);
      } catch (error) {
        fail(error instanceof Error ? error : new ProtocolError(String(error)));
        return;
      }
      if (!result.done) return;
      cleanup();
      socket.pause();
      if (result.unused > 0) socket.unshift(chunk.subarray(chunk.length - result.unused));
      resolve(result.value);
    };
    const onEnd = () => fail(new ProtocolError(`the connection ended before the ${what} was complete`));
    const onError = (error: Error) => fail(error);
    const timer = setTimeout(
      () => fail(new ReadTimeoutError(`no complete ${what} within ${timeout} ms`, { call: 'read' })),
      timeout,
    );
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
    socket.resume();
  });
}
