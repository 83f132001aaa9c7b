/**
 * What every HTTP listener of this project (the live view's, the metrics') does before a request
 * reaches its routes, in one place:
 *
 * - **Hosts**: a request-target that is malformed (`GET //[`) or a `Host` that is malformed,
 *   missing or given twice gets 400; a well-formed Host that is not the listener's own
 *   ({@link HostAllowlist}) gets 403. That is the defence against DNS rebinding.
 * - **Connections**: at most `maxConnections` at once, the listener's own bound (never the
 *   service's). When the last one is taken, the connection that has waited longest without a
 *   request in progress (one that sends nothing, or an idle keep-alive) is closed so that the next
 *   one gets in; when every one is busy, Node drops the next (counted as `refused`).
 * - **Time**: a connection must have sent a whole request head within `headersTimeout` ms of
 *   connecting or of its last answer (a timer of its own per socket, and Node's headersTimeout and
 *   requestTimeout besides); past that it is closed.
 * - **Descriptors**: the process's descriptor reserve holds for these listeners too. A connection
 *   that would leave fewer than half the reserve free is closed at once and counted as an `EMFILE`
 *   refusal (which the CLI reports as it does the service's); the connections held are counted
 *   process-wide, and a TCP server of the same process takes those past a quarter of its reserve
 *   out of its own room ({@link httpDescriptorsHeld}), so that neither side can run the process out.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { DEFAULT_DESCRIPTOR_RESERVE } from '../defaults.js';
import { HostAllowlist, parseAllowedHost } from '../policy/host-allowlist.js';
import { type HttpTarget, parseHttpHost, parseHttpTarget } from '../protocol/http-request.js';
import { validateDuration, validateInteger } from '../validate.js';
import { descriptorLimit, holdHttpDescriptor, httpFloorOfReserve, openDescriptors } from './descriptors.js';
import { listenHttp } from './listen-http.js';

/** Handles a request that passed the guard, with its parsed target. */
export type GuardedHandler = (request: IncomingMessage, response: ServerResponse, target: HttpTarget) => void;

/** Options of an {@link HttpGuard}. */
export interface HttpGuardOptions {
  /** Address to bind. */
  host: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** More names (or addresses) the listener answers besides its own (see HostAllowlist). */
  allowedHosts?: readonly string[];
  /** Most connections open at once. */
  maxConnections: number;
  /** ms a connection may take to send a request head, from connecting or from its last answer. */
  headersTimeout: number;
  /** The process's descriptor reserve (as the service's TcpServer has it); `false` for none. @default 32 */
  descriptorReserve?: number | false;
  /** Called with an error a handler threw (the request then gets 500). */
  onError?: (error: unknown) => void;
}

/** What an `HttpGuard` (the view server's gate) refused or closed, since it was built. */
export interface HttpGuardCounts {
  /** Connections Node dropped because every allowed one was busy. */
  refused: number;
  /** Connections closed to make room: the ones that had waited longest without a request. */
  evicted: number;
  /** Connections closed because no whole request head came in time. */
  timedOut: number;
  /** Connections refused because too few descriptors were left (`EMFILE`). */
  descriptorRefusals: number;
  /** Requests answered 400: a malformed target or Host, no Host, or two. */
  badRequests: number;
  /** Requests answered 403: a well-formed Host that is not the listener's. */
  forbidden: number;
}

interface Tracked {
  busy: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Counted as timed out already (by this guard's timer or Node's own). */
  timedOut: boolean;
  release: () => void;
}

const TEXT = 'text/plain; charset=utf-8';

/** An http.Server with the guard in front of its handler; see the module's description. */
export class HttpGuard {
  /** The server; its 'request' listener is the guard's. */
  readonly server: Server;
  readonly #options: HttpGuardOptions;
  readonly #maxConnections: number;
  readonly #headersTimeout: number;
  readonly #floor: number | undefined;
  readonly #handler: GuardedHandler;
  // In the order each became idle: the first idle one is the one that has waited longest.
  readonly #sockets = new Map<Socket, Tracked>();
  readonly #counts: HttpGuardCounts = {
    refused: 0,
    evicted: 0,
    timedOut: 0,
    descriptorRefusals: 0,
    badRequests: 0,
    forbidden: 0,
  };
  #allowlist: HostAllowlist | undefined;
  #limit: number | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: HttpGuardOptions, handler: GuardedHandler) {
    this.#options = options;
    this.#handler = handler;
    this.#maxConnections = validateInteger(options.maxConnections, 'max connections', 1, 100_000);
    this.#headersTimeout = validateDuration(options.headersTimeout, 'headers timeout');
    const reserve =
      options.descriptorReserve === false
        ? false
        : validateInteger(
            options.descriptorReserve ?? DEFAULT_DESCRIPTOR_RESERVE,
            'descriptor reserve',
            0,
            1_000_000,
          );
    this.#floor = reserve === false ? undefined : httpFloorOfReserve(reserve);
    // Checked here, so that a bad name fails when the listener is built, not when it listens.
    for (const name of options.allowedHosts ?? []) parseAllowedHost(name);
    const timeout = this.#headersTimeout;
    this.server = createServer({
      headersTimeout: timeout,
      requestTimeout: timeout * 2,
      keepAliveTimeout: timeout,
      // Node checks its two timeouts this often (30 s by default, too late for a few seconds' bound).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeout / 2))),
      requireHostHeader: true,
    });
    this.server.maxConnections = this.#maxConnections;
    this.server.on('drop', () => this.#counts.refused++);
    // Before http's own listener: a socket refused here is closed before anything reads it.
    this.server.prependListener('connection', (socket: Socket) => this.#admit(socket));
    this.server.on('request', (request: IncomingMessage, response: ServerResponse) =>
      this.#request(request, response),
    );
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      // Node's own clock on the request head (checked every connectionsCheckingInterval) may run
      // out before this guard's timer on a busy loop: the same timeout, counted once, answered 408.
      const tracked = this.#sockets.get(socket);
      // Both clocks may also run out in one turn of the loop: a socket counts once.
      if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' && tracked?.timedOut !== true) {
        if (tracked !== undefined) {
          clearTimeout(tracked.timer);
          tracked.timedOut = true;
        }
        this.#counts.timedOut++;
      }
      if (error.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      const status =
        error.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? '408 Request Timeout'
            : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      // A peer that does not read its answer does not keep the socket either.
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  /** Connections open now. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** What was refused or closed so far. */
  counts(): HttpGuardCounts {
    return { ...this.#counts };
  }

  /** Binds; resolves with the address (from then on the Hosts are checked), rejects with a BindError. */
  async listen(onError: (error: Error) => void): Promise<AddressInfo> {
    const { host, port } = this.#options;
    const address = await listenHttp(this.server, host, port, onError);
    this.#limit = descriptorLimit();
    this.#allowlist = new HostAllowlist({
      address: address.address,
      port: address.port,
      bindHost: host,
      names: this.#options.allowedHosts ?? [],
    });
    return address;
  }

  /** Stops listening and closes every connection now. Safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.server.listening) this.server.close(() => resolve());
      else resolve();
      this.server.closeAllConnections();
      for (const socket of this.#sockets.keys()) socket.destroy();
    });
    return this.#closing;
  }

  #admit(socket: Socket): void {
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    // `open` counts this socket already: keep `floor` descriptors free after it, or refuse it.
    // (A readdir of /proc/self/fd per connection: these listeners are not the service's hot path.)
    const open = this.#floor === undefined || this.#limit === undefined ? undefined : openDescriptors();
    if (open !== undefined && this.#limit !== undefined && open + (this.#floor ?? 0) > this.#limit) {
      this.#counts.descriptorRefusals++;
      socket.destroy();
      return;
    }
    const tracked: Tracked = {
      busy: false,
      timer: undefined,
      timedOut: false,
      release: holdHttpDescriptor(),
    };
    this.#sockets.set(socket, tracked);
    this.#wait(socket, tracked);
    socket.once('close', () => {
      clearTimeout(tracked.timer);
      tracked.release();
      this.#sockets.delete(socket);
    });
    if (this.#sockets.size >= this.#maxConnections) this.#evictOne(socket);
  }

  // Keeps one place free for the next connection: closes the one idle longest, if any is idle.
  #evictOne(spare: Socket): void {
    for (const [socket, tracked] of this.#sockets) {
      if (socket === spare || tracked.busy) continue;
      this.#counts.evicted++;
      socket.destroy();
      return;
    }
  }

  // The socket is idle (new, or answered): it has headersTimeout ms to send its next request head.
  #wait(socket: Socket, tracked: Tracked): void {
    tracked.busy = false;
    this.#sockets.delete(socket);
    this.#sockets.set(socket, tracked);
    clearTimeout(tracked.timer);
    tracked.timer = setTimeout(() => {
      tracked.timedOut = true;
      this.#counts.timedOut++;
      socket.destroy();
    }, this.#headersTimeout);
    tracked.timer.unref();
  }

  #request(request: IncomingMessage, response: ServerResponse): void {
    const socket = request.socket;
    const tracked = this.#sockets.get(socket);
    if (tracked !== undefined) {
      tracked.busy = true;
      clearTimeout(tracked.timer);
      response.once('close', () => {
        if (!socket.destroyed && this.#sockets.has(socket)) this.#wait(socket, tracked);
      });
    }
    const checked = this.#check(request);
    if ('status' in checked) {
      const bad = checked.status === 400;
      if (bad) this.#counts.badRequests++;
      else this.#counts.forbidden++;
      const body = `${checked.reason}\n`;
      response.writeHead(checked.status, {
        'content-type': TEXT,
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
        ...(bad ? { connection: 'close' } : {}),
      });
      response.end(request.method === 'HEAD' ? undefined : body);
      return;
    }
    try {
      this.#handler(request, response, checked);
    } catch (error) {
      this.#options.onError?.(error);
      if (!response.headersSent) response.writeHead(500, { 'content-type': TEXT });
      response.end('internal error\n');
    }
  }

  // The parsed target, or the refusal: 400 for what is malformed, 403 for a Host not ours.
  #check(request: IncomingMessage): HttpTarget | { status: 400 | 403; reason: string } {
    const bad = (reason: string) => ({ status: 400 as const, reason });
    const target = parseHttpTarget(request.url ?? '', request.method ?? 'GET');
    if (target === undefined) return bad('malformed request target');
    // Node keeps the first of two Host headers and drops the other: count them in the raw list.
    let hosts = 0;
    for (let i = 0; i < request.rawHeaders.length; i += 2) {
      if (request.rawHeaders[i]?.toLowerCase() === 'host') hosts++;
    }
    if (hosts > 1) return bad('more than one Host header');
    // An absolute-form target's authority stands for the Host header (RFC 9112 §3.2.2).
    const text = target.authority ?? request.headers.host;
    if (text === undefined) return bad('no Host header');
    const host = parseHttpHost(text);
    if (host === undefined) return bad('malformed Host header');
    if (this.#allowlist === undefined || !this.#allowlist.allows(host)) {
      return { status: 403, reason: 'unexpected Host header' };
    }
    return target;
  }
}
