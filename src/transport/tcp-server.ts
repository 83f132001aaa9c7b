/**
 * A TCP server that owns its sockets: it listens, accepts repeatedly (the lecture's step 4), tracks
 * every connection, limits how many run at once, and closes gracefully within a bound. It knows
 * nothing of the service that runs on it. Each accepted connection goes through the pipeline: the
 * `stages`, in order (each may read bytes and name the real client), then the `onConnection`
 * handler. It binds a host and port, or listens on a descriptor it inherited (socket activation).
 */
import { chmodSync, readlinkSync } from 'node:fs';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import {
  DEFAULT_BACKLOG,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_DESCRIPTOR_RESERVE,
  DEFAULT_SERVER_HOST,
} from '../defaults.js';
import {
  BindError,
  describeSystemError,
  InvalidArgumentError,
  ResolveError,
  ServerClosedError,
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
import { parseUnixAddress, UNIX_FAMILY, type UnixAddress } from '../unix-address.js';
import {
  formatAddress,
  validateDuration,
  validateHost,
  validateInteger,
  validateListenSource,
} from '../validate.js';
import { Connection, type ConnectionStage } from './connection.js';
import { descriptorLimit, httpDescriptorsHeld, httpShareOfReserve, openDescriptors } from './descriptors.js';
import { describeDescriptor } from './socket-activation.js';
import { publishSocketBytes } from './socket-bytes.js';
import { type ServerStats, Tally } from './stats.js';
import {
  closeKeepingOthers,
  prepareUnixPath,
  type UnixSocketIdentity,
  unixSocketIdentity,
  unixSocketMode,
} from './unix-socket.js';

/** Called for every accepted connection, once the pipeline's stages are done. */
export type ConnectionHandler = (connection: Connection, server: TcpServer) => void;

/** Options of a {@link TcpServer}. */
export interface TcpServerOptions {
  /**
   * Port to bind; 0 lets the system choose (see `listen()`'s result). Give either `port` or `fd`.
   */
  port?: number;
  /**
   * A listening socket this process inherited, by descriptor number (systemd socket activation
   * passes it as 3): it is already bound, so `host`, `port`, `backlog` and `reusePort` do not
   * apply. Give either `port` or `fd`.
   */
  fd?: number;
  /**
   * A Unix domain stream socket to listen on instead of a port: a file-system path, or `@name`
   * (or Node's `\0name`) for Linux's abstract namespace. A socket file left by a dead server is
   * replaced; a live server's is `EADDRINUSE`; a path that is not a socket is refused and left
   * alone. On close the file is removed, if it is still this server's own. `host` and `reusePort`
   * do not apply. Give one of `port`, `fd` and `path`.
   */
  path?: string;
  /**
   * The permission bits of the socket file (`path`), e.g. `0o660`: set as bind() creates it (with
   * the process's umask for the moment of the call), so that no client can connect before. Not
   * for an abstract name, which has no file. The umask's default when not set.
   */
  mode?: number;
  /** The service's name in stats (`hello`, `greet`, `echo`). @default 'tcp' */
  service?: string;
  /**
   * Stages that run on each connection before `onConnection`, in order: a PROXY protocol header
   * reader, for instance. Without stages, the handler runs within the accept.
   */
  stages?: readonly ConnectionStage[];
  /**
   * Address to bind: an IPv4 or IPv6 literal or a host name. `::` accepts IPv4 too (dual stack).
   * @default '0.0.0.0' (the seed's INADDR_ANY)
   */
  host?: string;
  /**
   * Length of the queue of connections the kernel completes before we accept them.
   * @default 4096 (the seed uses 5)
   */
  backlog?: number;
  /**
   * Bind with SO_REUSEPORT: other sockets that set it too (same user) can listen on the same
   * port, each with its own accept queue, and the kernel spreads new connections over them. This
   * is how `--workers N` runs; on a lone server it only opens the port to others.
   * @default false
   */
  reusePort?: boolean;
  /**
   * Stop accepting after this many connections, then close once they finish.
   * `1` is exactly the seed's server, which accepts once.
   * @default Infinity
   */
  maxAccepts?: number;
  /**
   * Most connections open at once. A connection past it is refused: it gets `refusal` (if any)
   * and is closed, without reaching the handler.
   * @default Infinity
   */
  maxConnections?: number;
  /** Bytes sent to a connection refused for `maxConnections`, before closing it. */
  refusal?: Uint8Array;
  /**
   * Leave accepted sockets paused (no reading) until the handler reads. For services that only
   * write, this saves a system call per connection.
   * @default false
   */
  pauseOnConnect?: boolean;
  /**
   * Keep a connection open for writing after the client shuts down its write side (half-close),
   * so that the service can still answer; the service then ends it. Services that read need it.
   * @default false
   */
  allowHalfOpen?: boolean;
  /**
   * Buffer size of accepted sockets, in bytes: `socket.write()` returns false (backpressure) once
   * this many bytes wait to be sent. Node's default when not set.
   */
  highWaterMark?: number;
  /**
   * On `close()`, how long connections may take to finish before they are destroyed.
   * @default 5000
   */
  closeTimeout?: number;
  /**
   * Descriptors kept free for everything else the process opens (files, DNS, HTTP, workers'
   * pipes). Once listening, the server takes the descriptors open then and this reserve from the
   * process's limit (RLIMIT_NOFILE, on Linux): connections past what is left are refused and
   * counted as `EMFILE` errors, instead of being dropped without a word when the system runs out
   * (libuv closes what it cannot accept and tells no one). `false` turns this off.
   * @default 32
   */
  descriptorReserve?: number | false;
  /** Handles each accepted connection. */
  onConnection: ConnectionHandler;
}

type TrackedSocket = Socket & { errorCode?: string };

/** The bytes of a read or write, for {@link TcpServer.trace}: what went, and through which socket. */
export interface SocketBytes {
  /** The connection's socket. */
  socket: Socket;
  /** The bytes read or written. */
  data: Uint8Array;
}

/** A listening TCP server: socket, bind, listen, then accept repeatedly. */
export class TcpServer {
  /** Process-unique id used in trace events. */
  readonly endpoint = newEndpointId();
  readonly #server: Server;
  readonly #host: string;
  readonly #port: number;
  readonly #fd: number | undefined;
  readonly #unix: UnixAddress | undefined;
  // The Unix socket's path as shown: the one bound, or an inherited Unix socket's (from /proc).
  #unixShown: string | undefined;
  readonly #mode: number | undefined;
  // The socket file this server bound (device and inode), to remove on close only if still its own.
  #unixIdentity: UnixSocketIdentity | undefined;
  readonly #service: string;
  readonly #stages: readonly ConnectionStage[];
  readonly #pauseOnConnect: boolean;
  readonly #backlog: number;
  readonly #reusePort: boolean;
  readonly #maxAccepts: number;
  readonly #maxConnections: number;
  readonly #refusal: Uint8Array | undefined;
  readonly #closeTimeout: number;
  readonly #descriptorReserve: number | false;
  // Most connections the descriptor limit leaves room for (set once listening).
  #descriptorRoom = Number.POSITIVE_INFINITY;
  readonly #onConnection: ConnectionHandler;
  // Every open connection, by its socket: what the one 'close' listener all sockets share needs.
  readonly #sockets = new Map<TrackedSocket, Connection>();
  readonly #onSocketClose: (this: TrackedSocket) => void;
  // Refused connections still sending their refusal: not counted as connections, but closed by destroy().
  readonly #refusing = new Set<Socket>();
  // Every connection accepted, health checks included (what maxAccepts counts).
  #accepted = 0;
  // Every socket the accept callback got, refused ones too: what the drain on close() counts.
  #arrivals = 0;
  #listenerClosed = false;
  #refused = 0;
  #healthChecks = 0;
  #bytesIn = 0;
  #bytesOut = 0;
  readonly #errors = new Tally();
  readonly #outcomes = new Tally();
  #listening: Promise<AddressInfo> | undefined;
  #closeRequested = false;
  #destroying = false;
  #resolveClosed!: () => void;
  /** Resolves once the listening socket is closed and every connection has ended. */
  readonly closed: Promise<void>;

  constructor(options: TcpServerOptions) {
    if (options.path !== undefined) {
      if (options.port !== undefined || options.fd !== undefined) {
        throw new InvalidArgumentError(
          'give one of a port, an inherited descriptor (fd) and a Unix socket path',
        );
      }
      this.#unix = parseUnixAddress(options.path);
      this.#unixShown = this.#unix.display;
      this.#port = 0;
      this.#fd = undefined;
    } else {
      ({ port: this.#port, fd: this.#fd } = validateListenSource(options.port, options.fd));
    }
    if (options.mode !== undefined) {
      if (this.#unix === undefined || this.#unix.abstract) {
        throw new InvalidArgumentError(
          `invalid mode '${options.mode.toString(8)}': a mode applies to a Unix socket file only${this.#unix === undefined ? '' : ' (an abstract name has no file)'}`,
        );
      }
      this.#mode = validateInteger(options.mode, 'mode', 0, 0o777);
    }
    this.#host = validateHost(options.host ?? DEFAULT_SERVER_HOST);
    this.#service = options.service ?? 'tcp';
    this.#stages = [...(options.stages ?? [])];
    this.#pauseOnConnect = options.pauseOnConnect ?? false;
    this.#backlog = validateInteger(options.backlog ?? DEFAULT_BACKLOG, 'backlog', 1, 65535);
    this.#reusePort = options.reusePort ?? false;
    this.#maxAccepts = options.maxAccepts ?? Number.POSITIVE_INFINITY;
    if (this.#maxAccepts !== Number.POSITIVE_INFINITY)
      validateInteger(this.#maxAccepts, 'count', 1, 2 ** 31 - 1);
    this.#maxConnections = options.maxConnections ?? Number.POSITIVE_INFINITY;
    if (this.#maxConnections !== Number.POSITIVE_INFINITY) {
      validateInteger(this.#maxConnections, 'max-connections', 1, 2 ** 31 - 1);
    }
    this.#refusal = options.refusal;
    this.#closeTimeout = validateDuration(options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT_MS, 'close timeout');
    this.#onConnection = options.onConnection;
    this.#descriptorReserve =
      options.descriptorReserve === false
        ? false
        : validateInteger(
            options.descriptorReserve ?? DEFAULT_DESCRIPTOR_RESERVE,
            'descriptor reserve',
            0,
            2 ** 20,
          );
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#server = createServer(
      {
        // Stages read first: the socket stays paused until they are done.
        pauseOnConnect: this.#pauseOnConnect || this.#stages.length > 0,
        allowHalfOpen: options.allowHalfOpen ?? false,
        ...(options.highWaterMark === undefined
          ? {}
          : { highWaterMark: validateInteger(options.highWaterMark, 'high water mark', 1, 2 ** 30) }),
      },
      (socket) => this.#accept(socket),
    );
    // Accept errors (EMFILE, ...) must not kill the server: libuv retries on the next event.
    this.#server.on('error', () => {});
    // One function for every socket's 'close' (it gets the socket as `this`), so that tracking a
    // connection allocates no closure for it.
    const server = this;
    this.#onSocketClose = function (this: TrackedSocket) {
      server.#untrack(this);
    };
  }

  /** Client connections accepted so far (a proxy's health checks are not clients). */
  get accepted(): number {
    return this.#accepted - this.#healthChecks;
  }

  /** Connections refused because `maxConnections` were open. */
  get refused(): number {
    return this.#refused;
  }

  /** Connections open now. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** For services: counts one of the service's own outcomes (`completed`, `pauses`, ...). */
  countOutcome(name: string, n = 1): void {
    this.#outcomes.add(name, n);
  }

  /** The server's counters now, in the shape every server shares. */
  snapshot(): ServerStats {
    return {
      transport: 'tcp',
      service: this.#service,
      accepted: this.#accepted - this.#healthChecks,
      refused: this.#refused,
      open: this.#sockets.size,
      errors: this.#errors.toRecord(),
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      outcomes: this.#outcomes.toRecord(),
      healthChecks: this.#healthChecks,
      stages: Object.fromEntries(
        this.#stages.flatMap((stage) => (stage.stats === undefined ? [] : [[stage.name, stage.stats()]])),
      ),
      ...(this.#unixShown === undefined ? {} : { listener: this.#unixShown }),
    };
  }

  /**
   * The bound address, once listening. A Unix socket's is `{ address: path, family: 'unix', port: 0 }`,
   * the path written as people do (`@name` for an abstract one).
   */
  address(): AddressInfo | undefined {
    const address = this.#server.address();
    if (this.#unixShown !== undefined) {
      return this.#server.listening ? { address: this.#unixShown, family: UNIX_FAMILY, port: 0 } : undefined;
    }
    return typeof address === 'object' && address !== null ? address : undefined;
  }

  /** The Unix socket's path as people write it (`@name` for an abstract one), when it listens on one. */
  get unixPath(): string | undefined {
    return this.#unixShown;
  }

  /**
   * True while trace subscribers (or the bytes channel's: `--hex`) are listening. `trace()`
   * checks it itself; check it first only to skip building an event's fields on a hot path.
   */
  get tracing(): boolean {
    return traceChannels.tcpServer.hasSubscribers || bytesChannel.hasSubscribers;
  }

  /**
   * Publishes a trace event about connection `id`, if anyone listens (the one trace() contract).
   * A `read` or `write` given its `bytes` (and the socket they went through) also publishes them
   * on the bytes channel, after the event, if anyone listens there.
   */
  trace(
    action: TraceActionOf<'tcp', 'server'>,
    id: number | undefined,
    fields: Partial<TraceEventInit> = {},
    bytes?: SocketBytes,
  ): void {
    if (traceChannels.tcpServer.hasSubscribers) {
      traceChannels.tcpServer.publish(
        makeTraceEvent({
          transport: 'tcp',
          role: 'server',
          action,
          endpoint: this.endpoint,
          connection: id,
          ...fields,
        }),
      );
    }
    if (bytes !== undefined && bytesChannel.hasSubscribers && (action === 'read' || action === 'write')) {
      const { socket, data } = bytes;
      // A connection is tracked once the service has it; before (hello writes within the accept),
      // the socket's own peer is the client.
      const remote =
        this.#sockets.get(socket)?.remote ??
        toTraceAddress(socket.remoteAddress, socket.remotePort, socket.remoteFamily);
      publishSocketBytes(
        {
          transport: 'tcp',
          role: 'server',
          endpoint: this.endpoint,
          connection: id,
          direction: action,
          remote,
          ...(this.#unixShown === undefined ? {} : { path: this.#unixShown }),
          data,
        },
        socket,
      );
    }
  }

  /**
   * socket(), bind() and listen(). Resolves with the bound address once connections can arrive;
   * rejects with a {@link BindError} (address in use, not local, not permitted) or
   * {@link ResolveError}. Calling it again returns the same promise.
   */
  listen(): Promise<AddressInfo> {
    if (this.#listening === undefined && this.#closeRequested) {
      return Promise.reject(
        new ServerClosedError('the server was closed before listen()', { call: 'listen' }),
      );
    }
    this.#listening ??= new Promise<AddressInfo>((resolve, reject) => {
      const onError = (error: Error) => {
        this.#server.off('listening', onListening);
        const where =
          this.#unix !== undefined
            ? this.#unix.display
            : this.#fd === undefined
              ? formatAddress(this.#host, this.#port)
              : `descriptor ${this.#fd}`;
        const code = systemCodeOf(error);
        if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
          reject(
            new ResolveError(`cannot resolve '${this.#host}': ${describeSystemError(error)}`, {
              cause: error,
              call: 'bind',
            }),
          );
        } else {
          reject(new BindError(`${where}: ${describeSystemError(error)}`, { cause: error, call: 'bind' }));
        }
        this.#resolveClosed();
      };
      const onListening = () => {
        this.#server.off('error', onError);
        this.#descriptorRoom = this.#roomForConnections();
        if (this.#unix !== undefined) this.#settleUnixFile(this.#unix);
        // An inherited socket that Node took as a pipe (systemd's ListenStream=/path) is a Unix one.
        const bound = this.#server.address();
        if (this.#fd !== undefined && (bound === null || typeof bound === 'string')) {
          const found = describeDescriptor(this.#fd);
          this.#unixShown = found.kind === 'unix' ? (found.path ?? '(unnamed)') : '(unnamed)';
        }
        const address = this.address() as AddressInfo;
        if (this.tracing && this.#unixShown !== undefined) {
          const how =
            this.#fd === undefined
              ? { combinedIn: 'server.listen()', path: this.#unixShown }
              : { fd: this.#fd, path: this.#unixShown };
          this.trace('socket', undefined, how);
          this.trace('bind', undefined, how);
          this.trace('listen', undefined, { backlog: this.#backlog, ...how });
        } else if (this.tracing) {
          const local = toTraceAddress(address.address, address.port, address.family);
          // An inherited socket was created, bound and set listening by another process.
          const how = this.#fd === undefined ? { combinedIn: 'server.listen()' } : { fd: this.#fd };
          this.trace('socket', undefined, how);
          this.trace('bind', undefined, { local, ...how });
          this.trace('listen', undefined, { local, backlog: this.#backlog, ...how });
        }
        resolve(address);
      };
      this.#server.once('error', onError);
      this.#server.once('listening', onListening);
      this.#server.once('close', () => {
        this.#listenerClosed = true;
        this.#settleClosed();
      });
      // With reusePort the socket is this process's own, also in a cluster worker (exclusive):
      // never a handle shared through the cluster's primary.
      if (this.#unix !== undefined) {
        const unix = this.#unix;
        prepareUnixPath(unix.path).then(
          () => this.#listenUnix(unix),
          (error: unknown) => {
            this.#server.off('listening', onListening);
            this.#server.off('error', onError);
            reject(error);
            this.#resolveClosed();
          },
        );
      } else if (this.#fd !== undefined) {
        this.#server.listen({ fd: this.#fd, backlog: this.#backlog });
      } else {
        this.#server.listen({
          host: this.#host,
          port: this.#port,
          backlog: this.#backlog,
          ...(this.#reusePort ? { reusePort: true, exclusive: true } : {}),
        });
      }
    });
    return this.#listening;
  }

  // bind() creates the file with the mode 0777 less the umask: with the umask set for the moment
  // of the call (Node binds a path synchronously in listen()), the file never has a wider mode,
  // so no one can connect before the mode is right (unlike a chmod after listen()).
  #listenUnix(unix: UnixAddress): void {
    if (this.#closeRequested) {
      this.#server.emit('error', new ServerClosedError('the server was closed before it could bind'));
      return;
    }
    let previous: number | undefined;
    if (this.#mode !== undefined) {
      try {
        previous = process.umask(~this.#mode & 0o777);
      } catch {
        // Worker threads may not set the umask: the mode is then set right after bind().
      }
    }
    try {
      this.#server.listen({ path: unix.path, backlog: this.#backlog });
    } finally {
      if (previous !== undefined) process.umask(previous);
    }
  }

  // Once bound: which file is ours, and its mode (if the umask could not be used).
  #settleUnixFile(unix: UnixAddress): void {
    if (unix.abstract) return;
    this.#unixIdentity = unixSocketIdentity(unix.path);
    if (this.#mode !== undefined && unixSocketMode(unix.path) !== this.#mode)
      chmodSync(unix.path, this.#mode);
  }

  // Closes the listening socket; a Unix socket's file goes with it only if it is still our own.
  #closeHandle(): void {
    if (this.#unix === undefined) this.#server.close();
    else closeKeepingOthers(this.#unix.path, this.#unixIdentity, () => this.#server.close());
  }

  /**
   * Stops accepting, lets open connections finish for up to `closeTimeout` ms, destroys the rest,
   * then closes (step 5). Safe to call more than once, and before `listen()`.
   */
  close(): Promise<void> {
    if (this.#closeRequested) return this.closed;
    this.#closeRequested = true;
    if (this.#listening === undefined) {
      this.#resolveClosed();
      return this.closed;
    }
    // Once listen() has settled (a failed listen has already resolved `closed`).
    this.#listening.then(
      () => this.#stopAccepting(),
      () => {},
    );
    return this.closed;
  }

  /** Stops accepting and destroys every open connection now. Safe to call more than once. */
  destroy(): Promise<void> {
    this.#destroying = true;
    const closing = this.close();
    if (this.#server.listening) this.#closeHandle();
    this.#destroySockets('destroyed');
    return closing;
  }

  #stopAccepting(): void {
    if (this.#destroying || !this.#server.listening || this.#accepted >= this.#maxAccepts)
      this.#closeListener();
    else this.#drainThenClose(this.#arrivals, this.#arrivals);
    // The bound on how long connections in flight may take runs from the close request.
    const timer = setTimeout(() => this.#destroySockets('close timeout'), this.#closeTimeout);
    this.closed.finally(() => clearTimeout(timer));
  }

  // Clients whose handshake the kernel already completed wait in the accept queue; closing the
  // listening socket now would reset them. Let the event loop accept what is queued and close on
  // the first turn that brings nothing new. Node accepts about one connection per turn, so this
  // takes as many turns as there were clients queued: at most `backlog` of them can have been
  // waiting when close() was called, which bounds the drain even while new clients keep coming.
  #drainThenClose(arrivalsAtClose: number, arrivalsBefore: number, first = true): void {
    setImmediate(() => {
      // The first turn may still be the one that ran close(): its poll phase is already over.
      const more = first || this.#arrivals !== arrivalsBefore;
      const drained = this.#arrivals - arrivalsAtClose;
      if (more && drained < this.#backlog && this.#accepted < this.#maxAccepts && !this.#destroying) {
        this.#drainThenClose(arrivalsAtClose, this.#arrivals, false);
      } else {
        this.#closeListener();
      }
    });
  }

  // Stops accepting. `closed` resolves when the last connection has ended too.
  #closeListener(): void {
    if (this.#server.listening) this.#closeHandle();
  }

  // What the descriptor limit leaves for connections: the limit, less what is open now, less the reserve.
  #roomForConnections(): number {
    if (this.#descriptorReserve === false) return Number.POSITIVE_INFINITY;
    const limit = descriptorLimit();
    const open = openDescriptors();
    if (limit === undefined || open === undefined) return Number.POSITIVE_INFINITY;
    return Math.max(1, limit - open - this.#descriptorReserve);
  }

  // The HTTP listeners' connections past their share of the reserve come out of this room.
  #httpOverflow(): number {
    if (this.#descriptorReserve === false) return 0;
    return Math.max(0, httpDescriptorsHeld() - httpShareOfReserve(this.#descriptorReserve));
  }

  /** Closes the server gracefully (`await using server = ...`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // Node emits the server's 'close' once its own count of connections drops to zero, a moment
  // before each socket's 'close' event: wait for those too so that step 5 comes after every 4c.
  #settleClosed(): void {
    if (!this.#listenerClosed || this.#sockets.size > 0) return;
    this.#listenerClosed = false;
    if (this.tracing) this.trace('stop', undefined);
    this.#resolveClosed();
  }

  #destroySockets(reason: string): void {
    for (const socket of this.#sockets.keys()) {
      socket.errorCode ??= reason;
      socket.destroy();
    }
    for (const socket of this.#refusing) socket.destroy();
  }

  // Send the refusal, then read and drop what the client sends until its FIN, so that the socket
  // closes by itself (and the client gets the refusal, not a reset). Bounded twice: each refused
  // socket lives at most closeTimeout ms, and at most maxConnections of them wait at once.
  #refuse(socket: Socket, refusal: Uint8Array): void {
    if (this.#refusing.size >= this.#maxConnections) {
      refuseBriefly(socket, refusal);
      return;
    }
    this.#refusing.add(socket);
    const timer = setTimeout(() => socket.destroy(), this.#closeTimeout);
    socket.once('close', () => {
      clearTimeout(timer);
      this.#refusing.delete(socket);
    });
    socket.end(refusal);
    socket.resume();
  }

  #accept(socket: TrackedSocket): void {
    this.#arrivals++;
    if (this.#accepted >= this.#maxAccepts || this.#destroying) {
      socket.destroy();
      return;
    }
    socket.on('error', onSocketError);
    if (this.#sockets.size >= this.#maxConnections) {
      this.#refused++;
      if (this.tracing) this.trace('close', undefined, { reason: 'refused: too many connections' });
      if (this.#refusal === undefined) socket.destroy();
      else this.#refuse(socket, this.#refusal);
      return;
    }
    if (this.#sockets.size + this.#refusing.size + this.#httpOverflow() >= this.#descriptorRoom) {
      // Out of descriptors but for the reserve: refuse now, and say so (errors.EMFILE), rather
      // than let the system run out and libuv drop connections unseen.
      this.#errors.add('EMFILE');
      if (this.tracing) this.trace('close', undefined, { reason: 'refused: too many open files (EMFILE)' });
      if (this.#refusal === undefined) socket.destroy();
      else if (this.#refusing.size < REFUSING_AT_DESCRIPTOR_LIMIT) this.#refuse(socket, this.#refusal);
      else refuseBriefly(socket, this.#refusal);
      return;
    }
    const connection = new Connection(++this.#accepted, socket, this.#unixShown);
    // The Nth of maxAccepts: stop accepting. The connections finish on their own time; only a
    // close() request bounds them with closeTimeout.
    if (this.#accepted >= this.#maxAccepts) this.#closeListener();
    if (this.#stages.length > 0) {
      this.#track(connection);
      void this.#runStages(connection);
      return;
    }
    const tracing = this.tracing;
    if (tracing) this.#traceAccept(connection);
    this.#serve(connection);
    // A handler that finished synchronously (hello: write, close) leaves nothing to track: its
    // descriptor is already closed. Skipping the bookkeeping is measurable at 25,000 clients/s.
    if (socket.destroyed && !tracing) {
      this.#bytesOut += socket.bytesWritten;
      return;
    }
    this.#track(connection);
  }

  // The pipeline: each stage in turn, then the service. A stage that fails closes the connection
  // unserved; its error's code is the reason the trace and the stats give.
  async #runStages(connection: Connection): Promise<void> {
    const socket = connection.socket as TrackedSocket;
    for (const stage of this.#stages) {
      try {
        await stage.run(connection);
      } catch (error) {
        if (this.tracing) {
          this.#traceAccept(connection);
          if (!connection.healthCheck) {
            this.trace('error', connection.id, { reason: `${stage.name}: ${describeSystemError(error)}` });
          }
        }
        // The error's code (ERR_PROXY_HEADER, ECONNRESET, ...) is the reason traced and counted.
        socket.errorCode ??= systemCodeOf(error) ?? 'ERR_STAGE';
        this.#countHealthCheck(connection);
        // A stage may ask for a reset (an untrusted proxy's connection, whose bytes are never
        // read), so that the peer sees one outcome however its bytes and our close interleave.
        if (isResetRequest(error)) socket.resetAndDestroy();
        else socket.destroy();
        return;
      }
      if (socket.destroyed) return;
    }
    this.#countHealthCheck(connection);
    if (this.tracing) {
      this.#traceAccept(connection);
      // A TLS stage's handshake: between the accept and the service's data.
      if (connection.tls !== undefined) this.trace('handshake', connection.id, { tls: connection.tls });
    }
    this.#serve(connection);
    // The service gets the socket as it would without stages: flowing, unless it asked otherwise.
    // After a TLS stage that is the TLS socket, which owns the accepted one.
    if (!this.#pauseOnConnect && !connection.socket.destroyed) connection.socket.resume();
  }

  // A proxy's health check (or a probe that only connected) is counted apart from clients.
  #countHealthCheck(connection: Connection): void {
    if (connection.healthCheck) this.#healthChecks++;
  }

  #traceAccept(connection: Connection): void {
    this.trace('accept', connection.id, {
      ...(this.#unixShown === undefined ? {} : unixAcceptFields(this.#unixShown, connection.socket)),
      local: connection.local,
      remote: connection.remote,
      ...(connection.proxy === undefined ? {} : { proxy: connection.proxy }),
    });
  }

  #serve(connection: Connection): void {
    try {
      this.#onConnection(connection, this);
    } catch (error) {
      // A service's bug with one connection must not take the server down for everyone else.
      const socket = connection.socket as TrackedSocket;
      socket.errorCode ??= `handler failed: ${describeSystemError(error)}`;
      socket.destroy();
    }
  }

  #track(connection: Connection): void {
    const socket = connection.socket as TrackedSocket;
    this.#sockets.set(socket, connection);
    socket.on('close', this.#onSocketClose);
  }

  #untrack(socket: TrackedSocket): void {
    const connection = this.#sockets.get(socket);
    if (connection === undefined) return;
    this.#sockets.delete(socket);
    this.#bytesIn += socket.bytesRead;
    this.#bytesOut += socket.bytesWritten;
    // A health check that hangs up without reading its greeting is no error of anyone's.
    if (socket.errorCode !== undefined && !connection.healthCheck) {
      this.#errors.add(statsCode(socket.errorCode));
    }
    if (this.tracing) {
      const reason = connection.healthCheck ? 'health check' : (socket.errorCode ?? 'done');
      this.trace('close', connection.id, { reason });
    }
    if (this.#listenerClosed) this.#settleClosed();
  }
}

// At the descriptor limit, at most this many refused sockets stay open to get their refusal.
// Past them, a refused socket still gets its refusal: it is closed as soon as the bytes are in the
// kernel's hands ('finish'; a few bytes to a new socket go at once), so it holds its descriptor for
// no longer than that. A client that had sent something may then get a reset, but after the
// refusal's bytes, which were sent first: never a reset with nothing said.
const REFUSING_AT_DESCRIPTOR_LIMIT = 16;

function refuseBriefly(socket: Socket, refusal: Uint8Array): void {
  socket.once('finish', () => socket.destroy());
  // Bounded even if the write never completes (a full send buffer cannot happen on a new socket).
  socket.setTimeout(1000, () => socket.destroy());
  socket.end(refusal);
}

// An accepted Unix socket's path and own inode, from its descriptor (read only while tracing):
// what a reader needs to find the process at its other end.
function unixAcceptFields(path: string, socket: Socket): { path: string; inode?: number } {
  // Node keeps the descriptor on the socket's handle; it has no public name for it.
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return { path };
  try {
    const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
    return inode === undefined ? { path } : { path, inode: Number(inode) };
  } catch {
    return { path };
  }
}

// Stats count errors by a bounded set of codes; the close trace keeps the full reason.
function statsCode(reason: string): string {
  if (/^[A-Z][A-Z0-9_]*$/.test(reason)) return reason;
  if (reason.startsWith('handler failed')) return 'ERR_HANDLER';
  if (reason === 'close timeout') return 'ERR_CLOSE_TIMEOUT';
  if (reason === 'destroyed') return 'ERR_DESTROYED';
  return 'ERR_OTHER';
}

// Shared by every socket so that accepting allocates no closure for it. A reset or broken pipe
// from one client must never take the server down; the reason shows in the close trace.
function onSocketError(this: TrackedSocket, error: Error): void {
  this.errorCode ??= systemCodeOf(error) ?? error.message;
}

// An error a stage throws to have the connection reset (RST) rather than closed (FIN).
function isResetRequest(error: unknown): boolean {
  return (error as { resetConnection?: unknown } | null)?.resetConnection === true;
}
