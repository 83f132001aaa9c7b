/**
 * The live view's HTTP server (node:http only): the page at `/`, a JSON snapshot at `/state`, a
 * Server-Sent Events stream at `/events`, one connection's Mermaid text at `/mermaid`, and the
 * page's buttons at `/run`. It subscribes to the trace, reduces it ({@link ViewState}), reads the
 * kernel's states while a page is open or `/state` is asked ({@link KernelReader}) and sends the
 * pages coalesced updates, at most {@link VIEW_MAX_UPDATES_PER_SECOND} a second.
 *
 * It keeps to itself: its errors are caught and counted, never thrown into the service's trace
 * calls; a page that reads slowly misses updates (it gets a fresh snapshot once it catches up)
 * rather than buffering without bound.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DEFAULT_HTTP_HOST,
  HTTP_HEADERS_TIMEOUT_MS,
  VIEW_BUSY_ACCEPTS_PER_SECOND,
  VIEW_BUSY_KERNEL_READS_PER_SECOND,
  VIEW_BUSY_UPDATES_PER_SECOND,
  VIEW_HEARTBEAT_MS,
  VIEW_KERNEL_MAX_AGE_MS,
  VIEW_KERNEL_OPEN_RECHECK_MS,
  VIEW_KERNEL_WAITING_RECHECK_MS,
  VIEW_MAX_HTTP_CONNECTIONS,
  VIEW_MAX_RUNNING_CLIENTS,
  VIEW_MAX_STREAMS,
  VIEW_MAX_UPDATES_PER_SECOND,
  VIEW_SNAPSHOT_INTERVAL_MS,
  VIEW_STATS_INTERVAL_MS,
  VIEW_STREAM_STALL_MS,
  VIEW_UPDATE_SAMPLE,
} from '../defaults.js';
import { type BindError, describeSystemError, InvalidArgumentError, ServerClosedError } from '../errors.js';
import type { HttpTarget } from '../protocol/http-request.js';
import { subscribeBytes } from '../trace/bytes.js';
import { subscribeTrace } from '../trace/events.js';
import { TRACE_LANGUAGES, type TraceLanguage } from '../trace/schema.js';
import { HttpGuard, type HttpGuardCounts } from '../transport/http-guard.js';
import type { ServerStats } from '../transport/stats.js';
import type { TlsClientOptions } from '../transport/tls-client.js';
import { UNIX_FAMILY } from '../unix-address.js';
import { validateDuration, validateHost, validateInteger, validatePort } from '../validate.js';
import { BusyMeter } from './busy-meter.js';
import { clientFor, loopbackTarget, runViewClient, type ViewClient } from './clients.js';
import { findSs, KernelReader, type KernelSource } from './kernel-reader.js';
import { toMermaid } from './mermaid.js';
import { type PageOptions, renderPage } from './page.js';
import {
  type KernelPace,
  type KernelTarget,
  type ViewAddress,
  type ViewConnection,
  type ViewListener,
  ViewState,
} from './state.js';
import { readUnixPeers, type UnixPeer } from './unix-peers.js';

/** A handler of an extra GET route (`/metrics`, for instance). HEAD requests reach it too. */
export type ViewRoute = (request: IncomingMessage, response: ServerResponse) => void;

/** Options of a {@link ViewServer}. */
export interface ViewServerOptions {
  /** Port of the page; 0 picks a free one. */
  port: number;
  /**
   * Address to serve the page on. Anything beyond loopback shows every client's address and the
   * lines they send to whoever can reach it (see docs/view.md).
   * @default '127.0.0.1'
   */
  host?: string;
  /** The program's name, in the page's title (`hserver`). */
  program?: string;
  /** The service's transport: which diagram the page draws. */
  transport: 'tcp' | 'udp';
  /** The service (`hello`, `greet`, `echo`): which client the page's button runs. */
  service: string;
  /** The service's own bound address once it listens: the only target of the page's buttons. */
  target?: () => AddressInfo | undefined;
  /** The service speaks TLS: how the page's buttons do the handshake with it. */
  clientTls?: TlsClientOptions;
  /** The service's counters (all workers' added up under `--workers`). */
  stats?: () => ServerStats | undefined | Promise<ServerStats | undefined>;
  /** The page's language, over the browser's. @default the browser's (Accept-Language), else English */
  lang?: TraceLanguage;
  /** More GET routes by path, served beside the view's own (a metrics endpoint). */
  routes?: Readonly<Record<string, ViewRoute>>;
  /** Most page streams at once; one more gets 503. @default 32 */
  maxStreams?: number;
  /**
   * Names (or addresses) the view answers besides its own: `localhost`, 127.x.y.z, `[::1]`, the
   * address it is bound to (not a wildcard's), and its host when that is a name. Every other `Host`
   * gets 403 (DNS rebinding); see docs/view.md.
   */
  allowedHosts?: readonly string[];
  /** Most HTTP connections at once, streams included (the view's own bound). @default maxStreams + 16 */
  maxConnections?: number;
  /** ms a connection may take to send a request head before it is closed. @default 5000 */
  headersTimeout?: number;
  /** ms a stream whose client takes nothing of what waits for it is kept. @default 10000 */
  streamStallTimeout?: number;
  /** The process's descriptor reserve (as the service's); `false` for none. @default 32 */
  descriptorReserve?: number | false;
  /** ms between heartbeats (`: ping`) on a stream. @default 15000 */
  heartbeat?: number;
  /** Reads the kernel's states; `false` for none (every state `unknown`). @default a KernelReader (`ss`, else /proc/net/tcp{,6}) */
  kernel?: KernelReader | false;
  /** Called with an error of the view (never of the service); the view goes on. */
  onError?: (error: unknown) => void;
}

interface Stream {
  response: ServerResponse;
  lagging: boolean;
  // While lagging: checks that the client takes something of its backlog.
  stall: NodeJS.Timeout | undefined;
}

const FLUSH_INTERVAL_MS = 1000 / VIEW_MAX_UPDATES_PER_SECOND;
// While the server is busy (BusyMeter): fewer updates, fewer kernel reads.
const BUSY_FLUSH_INTERVAL_MS = 1000 / VIEW_BUSY_UPDATES_PER_SECOND;
const BUSY_KERNEL_INTERVAL_MS = 1000 / VIEW_BUSY_KERNEL_READS_PER_SECOND;
/** How often the view looks up the processes at the other end of Unix socket connections, at most. */
const UNIX_PEERS_INTERVAL_MS = 250;

// A Unix socket's address is a path: nothing the TCP tables (ss, /proc/net/tcp) can be asked about.
function ipTarget(target: AddressInfo | undefined): AddressInfo | undefined {
  return target?.family === UNIX_FAMILY ? undefined : target;
}
// While every stream place is taken and pages are refused, each open stream gets this SSE comment
// (which a page ignores) at most once a second: a client that reads nothing then fills its socket
// buffers (up to the 4 MiB a loopback send buffer grows to, plus the receive buffer) within a few
// seconds and is closed by the stall timeout, even on an idle server whose
// updates and pings alone would take hours to fill them.
const STREAM_PROBE = `:${' '.repeat(1024 * 1024)}\n\n`;
const STREAM_PROBE_INTERVAL_MS = 1000;
// A supervisor's workers that do not answer within this are left out of one stats reading.
const STATS_TIMEOUT_MS = 1000;

/** What `/state` answers (and each stream's first event). */
export interface ViewSnapshot {
  /** The program serving the view (`hserver`). */
  program: string;
  /** The service's transport. */
  transport: 'tcp' | 'udp';
  /** The service (`hello`, `greet`, `echo`). */
  service: string;
  /** The language the server was started with (`--lang`), the page's first. */
  lang?: TraceLanguage;
  /** The client the page's button runs, if the service has one. */
  client?: ViewClient;
  /** The service's bound address. */
  listen?: ViewAddress & {
    /** Connections waiting in its accept queue, summed over listeners; `unknown` where unread. */
    acceptQueue: number | 'unknown';
  };
  /** Every listening or bound socket of the service (one per worker under `--workers`). */
  listeners: ViewListener[];
  /** Newest first, at most the view's bound. */
  connections: ViewConnection[];
  /** The server's latest stats, once taken. */
  stats?: ServerStats;
  /** Per second, from the last two stats snapshots. */
  rates?: {
    /** Connections accepted per second. */
    accepted: number;
    /** Bytes received per second. */
    bytesIn: number;
    /** Bytes sent per second. */
    bytesOut: number;
  };
  /** The view's counts since it started. */
  counters: ViewState['counters'];
  /**
   * The kernel's readings: whether the last one could read anything, where they come from
   * (`ss`, `proc`, `none`), how old the last one is, and how many were taken so far.
   */
  kernel: {
    /** Whether the last reading could read anything. */
    available: boolean;
    /** Where the readings come from: `ss`, `proc` or `none`. */
    source: KernelSource;
    /** The last reading's age in ms, once there is one. */
    ageMs?: number;
    /** Readings taken so far. */
    reads: number;
  };
  /** Errors the view caught (its own). */
  viewErrors: number;
  /**
   * True while the server accepts more than {@link VIEW_BUSY_ACCEPTS_PER_SECOND} connections a
   * second: the view then sends at most {@link VIEW_BUSY_UPDATES_PER_SECOND} updates a second and
   * reads the kernel at most {@link VIEW_BUSY_KERNEL_READS_PER_SECOND} times a second.
   */
  busy: boolean;
}

// One built snapshot: the object, its JSON (what every asker gets until the next), and when.
interface BuiltSnapshot {
  at: number;
  snapshot: ViewSnapshot;
  json: string;
}

// How often connections at each pace are read again, from the last reading.
const PACE_MS: Readonly<Record<KernelPace, number>> = {
  changing: 0,
  open: VIEW_KERNEL_OPEN_RECHECK_MS,
  waiting: VIEW_KERNEL_WAITING_RECHECK_MS,
};

/** The live view's HTTP server. */
export class ViewServer {
  #unixPeersAt = Number.NEGATIVE_INFINITY;
  #unixPeersReading: Promise<void> | undefined;
  // ss's path for the Unix peers' lookup, found once; false when there is none.
  #unixSs: string | false | undefined;
  /** The reducer of the trace: what the page shows. */
  readonly state: ViewState;
  readonly #options: ViewServerOptions;
  readonly #host: string;
  readonly #port: number;
  readonly #maxStreams: number;
  readonly #heartbeat: number;
  readonly #kernel: KernelReader | undefined;
  readonly #guard: HttpGuard;
  readonly #stallTimeout: number;
  readonly #streams = new Set<Stream>();
  readonly #unsubscribe: () => void;
  readonly #unsubscribeBytes: () => void;
  #seq = 0;
  #running = 0;
  #errors = 0;
  #flushTimer: NodeJS.Timeout | undefined;
  #flushedAt = Number.NEGATIVE_INFINITY;
  #kernelTimer: NodeJS.Timeout | undefined;
  // Whether the pending kernel timer fires as soon as the reader's pace allows, and whether a
  // poll's read is running.
  #kernelSoonest = false;
  #kernelPolling = false;
  // When the last poll's kernel read began (performance.now).
  #kernelPolledAt = Number.NEGATIVE_INFINITY;
  // Connections accepted a second: above VIEW_BUSY_ACCEPTS_PER_SECOND the view slows its pace.
  readonly #busy = new BusyMeter(VIEW_BUSY_ACCEPTS_PER_SECOND, performance.now());
  // When each shown connection was last covered by a reading (the reader's clock, performance.now).
  readonly #kernelReadAt = new Map<string, number>();
  #built: BuiltSnapshot | undefined;
  #building: Promise<BuiltSnapshot> | undefined;
  #snapshotBuilds = 0;
  #probedAt = Number.NEGATIVE_INFINITY;
  #statsTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #stats: ServerStats | undefined;
  #rates: ViewSnapshot['rates'];
  #statsAt = 0;
  #closing: Promise<void> | undefined;
  #listening: Promise<AddressInfo> | undefined;

  constructor(options: ViewServerOptions) {
    this.#options = options;
    this.#port = validatePort(options.port);
    this.#host = validateHost(options.host ?? DEFAULT_HTTP_HOST);
    this.#maxStreams = validateInteger(options.maxStreams ?? VIEW_MAX_STREAMS, 'max streams', 1, 10_000);
    this.#heartbeat = validateInteger(options.heartbeat ?? VIEW_HEARTBEAT_MS, 'heartbeat', 1, 2 ** 31 - 1);
    this.#kernel = options.kernel === false ? undefined : (options.kernel ?? new KernelReader());
    this.state = new ViewState({ kernelReadable: this.#kernel !== undefined });
    if (options.lang !== undefined && !TRACE_LANGUAGES.includes(options.lang)) {
      throw new InvalidArgumentError(`invalid view language '${String(options.lang)}': expected en or ko`);
    }
    // Subscribed from the start, so that the server's socket(), bind() and listen() are seen.
    this.#unsubscribe = subscribeTrace((event) => {
      if (event.action === 'accept' && event.role === 'server') this.#busy.accepted(performance.now());
      try {
        this.state.apply(event);
      } catch (error) {
        this.#fail(error);
      }
      if (this.#streams.size > 0) {
        this.#scheduleFlush();
        // Something happened to a connection: its kernel states are worth a read soon.
        this.#wakeKernel();
      }
    });
    // The first bytes of each connection each way, for the page's dump.
    this.#unsubscribeBytes = subscribeBytes((bytes) => {
      try {
        this.state.applyBytes(bytes);
      } catch (error) {
        this.#fail(error);
      }
      if (this.#streams.size > 0) this.#scheduleFlush();
    });
    this.#stallTimeout = validateDuration(
      options.streamStallTimeout ?? VIEW_STREAM_STALL_MS,
      'stream stall timeout',
    );
    // Hosts, malformed targets, the connection cap, the headers' timeout and the descriptor reserve.
    this.#guard = new HttpGuard(
      {
        host: this.#host,
        port: this.#port,
        maxConnections: validateInteger(
          options.maxConnections ?? this.#maxStreams + (VIEW_MAX_HTTP_CONNECTIONS - VIEW_MAX_STREAMS),
          'max connections',
          this.#maxStreams + 1,
          100_000,
        ),
        headersTimeout: options.headersTimeout ?? HTTP_HEADERS_TIMEOUT_MS,
        ...(options.allowedHosts === undefined ? {} : { allowedHosts: options.allowedHosts }),
        ...(options.descriptorReserve === undefined ? {} : { descriptorReserve: options.descriptorReserve }),
        onError: (error) => this.#fail(error),
      },
      (request, response, target) => this.#handle(request, response, target),
    );
  }

  /** What the view's HTTP guard refused or closed (Hosts, the connection cap, timeouts, descriptors). */
  get refusals(): HttpGuardCounts {
    return this.#guard.counts();
  }

  /** HTTP connections open now, streams included. */
  get connections(): number {
    return this.#guard.connections;
  }

  /** Page streams open now. */
  get streams(): number {
    return this.#streams.size;
  }

  /** Snapshots built so far (for `/state` and the pages' first event): at most one per 200 ms. */
  get snapshotBuilds(): number {
    return this.#snapshotBuilds;
  }

  /** The reader of the kernel's states, if the view has one. */
  get kernel(): KernelReader | undefined {
    return this.#kernel;
  }

  /** The view's bound address, once listening. */
  address(): AddressInfo | undefined {
    const a = this.#guard.server.address();
    return typeof a === 'object' && a !== null ? a : undefined;
  }

  /** Binds the page's address. Rejects with a {@link BindError}. Calling it again returns the same promise. */
  listen(): Promise<AddressInfo> {
    if (this.#closing !== undefined) {
      return Promise.reject(new ServerClosedError('the view was closed before listen()', { call: 'listen' }));
    }
    this.#listening ??= this.#guard
      .listen((error) => this.#fail(error))
      .catch((error: unknown) => {
        this.#unsubscribe();
        this.#unsubscribeBytes();
        throw error;
      });
    return this.#listening;
  }

  /** Ends every stream and connection at once and stops listening. Safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#unsubscribe();
      this.#unsubscribeBytes();
      for (const timer of [this.#flushTimer, this.#kernelTimer, this.#statsTimer, this.#heartbeatTimer]) {
        clearTimeout(timer);
      }
      clearInterval(this.#heartbeatTimer);
      for (const stream of this.#streams) {
        clearInterval(stream.stall);
        stream.response.end();
      }
      this.#streams.clear();
      // A stream would hold close() open for ever: the guard ends every connection now.
      void this.#guard.close().then(resolve);
    });
    return this.#closing;
  }

  /** Closes the view (`await using view = ...`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * The snapshot `/state` answers, with the kernel's states at most about `maxAge` ms old. It is
   * built at most once in {@link VIEW_SNAPSHOT_INTERVAL_MS} however many ask (one build, one
   * kernel read, one stats reading); every caller in between gets the same one.
   */
  async snapshot(maxAge = VIEW_KERNEL_MAX_AGE_MS): Promise<ViewSnapshot> {
    return (await this.#sharedSnapshot(maxAge)).snapshot;
  }

  #sharedSnapshot(maxAge = VIEW_KERNEL_MAX_AGE_MS): Promise<BuiltSnapshot> {
    const built = this.#built;
    if (built !== undefined && performance.now() - built.at < VIEW_SNAPSHOT_INTERVAL_MS) {
      return Promise.resolve(built);
    }
    this.#building ??= Promise.all([this.#readKernel(maxAge), this.#refreshStats(true)])
      .then(() => this.#buildSnapshot())
      .finally(() => {
        this.#building = undefined;
      });
    return this.#building;
  }

  // The last snapshot if it is fresh enough, else one built now from what the view already holds.
  #recentSnapshot(): BuiltSnapshot {
    const built = this.#built;
    if (built !== undefined && performance.now() - built.at < VIEW_SNAPSHOT_INTERVAL_MS) return built;
    return this.#buildSnapshot();
  }

  #buildSnapshot(): BuiltSnapshot {
    this.#snapshotBuilds++;
    const snapshot = this.#snapshotNow();
    const built = { at: performance.now(), snapshot, json: JSON.stringify(snapshot) };
    this.#built = built;
    return built;
  }

  #snapshotNow(): ViewSnapshot {
    return { ...this.#head(), listeners: this.state.listeners(), connections: this.state.connections() };
  }

  // Everything of a snapshot but its lists: what each update repeats.
  #head(): Omit<ViewSnapshot, 'listeners' | 'connections'> {
    const target = this.#options.target?.();
    const kernel = this.#kernel;
    const last = kernel?.last;
    const snapshot: Omit<ViewSnapshot, 'listeners' | 'connections'> = {
      program: this.#options.program ?? 'hserver',
      transport: this.#options.transport,
      service: this.#options.service,
      counters: this.state.counters,
      kernel: {
        available: last?.available ?? false,
        source: last?.source ?? kernel?.source ?? 'none',
        ...(last === undefined ? {} : { ageMs: Math.round(performance.now() - last.time) }),
        reads: kernel?.reads ?? 0,
      },
      viewErrors: this.#errors,
      busy: this.#busy.busy(performance.now()),
    };
    if (this.#options.lang !== undefined) snapshot.lang = this.#options.lang;
    const client = clientFor(this.#options.transport, this.#options.service);
    if (client !== undefined) snapshot.client = client;
    if (target !== undefined) {
      const listen = { address: target.address, port: target.port };
      // A Unix socket's listener is not in the TCP tables: its path, with no queue read.
      const acceptQueue: number | 'unknown' =
        this.#options.transport === 'tcp' &&
        target.family !== UNIX_FAMILY &&
        last !== undefined &&
        this.#kernel !== undefined
          ? this.#kernel.acceptQueue(last, listen)
          : 'unknown';
      snapshot.listen = { ...listen, acceptQueue };
    }
    if (this.#stats !== undefined) snapshot.stats = this.#stats;
    if (this.#rates !== undefined) snapshot.rates = this.#rates;
    return snapshot;
  }

  #fail(error: unknown): void {
    this.#errors++;
    try {
      this.#options.onError?.(error);
    } catch {
      // the error handler's own error is not the service's either
    }
  }

  // Reads the kernel (within its rate) and records what it says of every connection still worth it.
  // The connections a read asks for first (it asks for at most 64): those changing, newest first,
  // then the others, the longest unread first, so that every one gets its turn. Forgets the read
  // times of connections no longer shown.
  #kernelOrder(targets: KernelTarget[]): KernelTarget[] {
    const shown = new Set(targets.map((t) => t.id));
    for (const id of this.#kernelReadAt.keys()) if (!shown.has(id)) this.#kernelReadAt.delete(id);
    const changing = targets.filter((t) => t.pace === 'changing').reverse();
    const others = targets.filter((t) => t.pace !== 'changing');
    const readAt = (t: KernelTarget) => this.#kernelReadAt.get(t.id) ?? Number.NEGATIVE_INFINITY;
    others.sort((a, b) => readAt(a) - readAt(b));
    return [...changing, ...others];
  }

  // The processes at the other end of Unix socket connections, while some are unread: one `ss -xpn`
  // at most every UNIX_PEERS_INTERVAL_MS, never two at once (src/view/unix-peers.ts says its cost).
  async #readUnixPeers(): Promise<void> {
    const targets = this.state.unixPeerTargets();
    if (targets.length === 0 || this.#unixPeersReading !== undefined) return this.#unixPeersReading;
    if (performance.now() - this.#unixPeersAt < UNIX_PEERS_INTERVAL_MS) return;
    this.#unixPeersAt = performance.now();
    this.#unixSs ??= findSs() ?? false;
    const ss = this.#unixSs;
    this.#unixPeersReading = (async () => {
      const peers =
        ss === false
          ? new Map<number, UnixPeer>()
          : await readUnixPeers(
              ss,
              targets.map((t) => t.inode),
            );
      const time = performance.timeOrigin + performance.now();
      for (const t of targets) this.state.applyUnixPeer(t.id, peers.get(t.inode) ?? 'unknown', time);
    })()
      .catch((error: unknown) => this.#fail(error))
      .finally(() => {
        this.#unixPeersReading = undefined;
      });
    return this.#unixPeersReading;
  }

  async #readKernel(maxAge: number): Promise<void> {
    await this.#readUnixPeers();
    const kernel = this.#kernel;
    if (kernel === undefined) return;
    try {
      const shown = this.state.kernelTargets();
      const target = ipTarget(this.#options.target?.());
      const listening = target === undefined ? [] : [{ address: target.address, port: target.port }];
      const reading = await kernel.read(this.#kernelOrder(shown), listening, maxAge);
      const time = performance.timeOrigin + performance.now();
      // Oldest first, so that the newest connections' changes are the latest: the first to be sent.
      for (const t of shown) {
        const states = kernel.states(reading, t);
        if (states === undefined) continue;
        this.#kernelReadAt.set(t.id, reading.time);
        // ss asks netlink, whose dump holds each hash bucket's lock while it lists it: a socket
        // is never missed there. /proc's text is read in chunks while the table changes: one
        // missing row from it is not yet proof that the socket is gone.
        this.state.applyKernel(t.id, states, time, { confirmGone: reading.source === 'proc' });
      }
    } catch (error) {
      this.#fail(error);
    }
  }

  async #refreshStats(now = false): Promise<void> {
    const provider = this.#options.stats;
    if (provider === undefined) return;
    if (!now && performance.now() - this.#statsAt < VIEW_STATS_INTERVAL_MS) return;
    try {
      let timer: NodeJS.Timeout | undefined;
      const stats = await Promise.race([
        Promise.resolve(provider()),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), STATS_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (stats === undefined) return;
      const at = performance.now();
      const previous = this.#stats;
      const seconds = (at - this.#statsAt) / 1000;
      if (previous !== undefined && seconds > 0) {
        this.#rates = {
          accepted: Math.round((stats.accepted - previous.accepted) / seconds),
          bytesIn: Math.round((stats.bytesIn - previous.bytesIn) / seconds),
          bytesOut: Math.round((stats.bytesOut - previous.bytesOut) / seconds),
        };
      }
      this.#stats = stats;
      this.#statsAt = at;
    } catch (error) {
      this.#fail(error);
    }
  }

  // The guard has checked the target and the Host (400, 403) before this.
  #handle(request: IncomingMessage, response: ServerResponse, target: HttpTarget): void {
    const method = request.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      response.end('only GET and HEAD\n');
      return;
    }
    const url = { pathname: target.path, searchParams: new URLSearchParams(target.query) };
    const extra = this.#options.routes;
    if (extra !== undefined && Object.hasOwn(extra, url.pathname)) {
      extra[url.pathname]?.(request, response);
      return;
    }
    switch (url.pathname) {
      case '/':
        this.#send(
          request,
          response,
          200,
          'text/html; charset=utf-8',
          renderPage(this.#pageOptions(request)),
        );
        return;
      case '/state':
        // However many ask, one build (and one kernel read) serves them all for a while.
        void this.#sharedSnapshot().then(
          (built) => this.#send(request, response, 200, 'application/json', `${built.json}\n`),
          (error) => {
            this.#fail(error);
            this.#send(request, response, 500, 'text/plain; charset=utf-8', 'internal error\n');
          },
        );
        return;
      case '/events':
        this.#openStream(request, response);
        return;
      case '/mermaid': {
        const connection = this.state.connection(url.searchParams.get('id') ?? '');
        const lang = url.searchParams.get('lang') === 'ko' ? 'ko' : 'en';
        if (connection === undefined) {
          this.#send(request, response, 404, 'text/plain; charset=utf-8', 'no such connection\n');
        } else {
          this.#send(request, response, 200, 'text/plain; charset=utf-8', toMermaid(connection, lang));
        }
        return;
      }
      case '/run':
        this.#run(request, response);
        return;
      default:
        this.#send(request, response, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
  }

  #pageOptions(request: IncomingMessage): PageOptions {
    const accept = String(request.headers['accept-language'] ?? '').toLowerCase();
    const browser: TraceLanguage = accept.startsWith('ko') ? 'ko' : 'en';
    return {
      lang: this.#options.lang ?? browser,
      program: this.#options.program ?? 'hserver',
      transport: this.#options.transport,
    };
  }

  #send(
    request: IncomingMessage,
    response: ServerResponse,
    status: number,
    type: string,
    body: string,
  ): void {
    const bytes = Buffer.from(body);
    response.writeHead(status, {
      'content-type': type,
      'content-length': bytes.length,
      'cache-control': 'no-store',
      // The page loads nothing from elsewhere; say so to the browser too.
      'content-security-policy':
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
      'x-content-type-options': 'nosniff',
    });
    response.end(request.method === 'HEAD' ? undefined : bytes);
  }

  // The page's buttons. A custom header makes a cross-site page's request need a CORS preflight,
  // which gets 405: only the view's own page can run them.
  #run(request: IncomingMessage, response: ServerResponse): void {
    const text = 'text/plain; charset=utf-8';
    const kind = clientFor(this.#options.transport, this.#options.service);
    const target = this.#options.target?.();
    if (request.headers['x-socket-steps'] !== 'run') {
      this.#send(request, response, 403, text, 'the page runs clients with the X-Socket-Steps: run header\n');
      return;
    }
    if (kind === undefined || target === undefined) {
      this.#send(request, response, 409, text, 'no client for this service, or it is not listening\n');
      return;
    }
    if (request.method === 'HEAD') {
      this.#send(request, response, 200, text, '');
      return;
    }
    if (this.#running >= VIEW_MAX_RUNNING_CLIENTS) {
      this.#send(request, response, 429, text, 'clients still running: try again in a moment\n');
      return;
    }
    this.#running++;
    runViewClient(kind, loopbackTarget(target), this.#options.clientTls)
      .then(
        (summary) => this.#send(request, response, 200, text, `${summary}\n`),
        (error) => this.#send(request, response, 502, text, `${describeSystemError(error)}\n`),
      )
      .finally(() => {
        this.#running--;
      })
      .catch((error) => this.#fail(error));
  }

  #openStream(request: IncomingMessage, response: ServerResponse): void {
    if (this.#streams.size >= this.#maxStreams) {
      this.#probeStreams();
      this.#send(
        request,
        response,
        503,
        'text/plain; charset=utf-8',
        `at most ${this.#maxStreams} pages at once\n`,
      );
      return;
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    response.socket?.setNoDelay(true);
    const stream: Stream = { response, lagging: false, stall: undefined };
    this.#streams.add(stream);
    response.once('close', () => {
      clearInterval(stream.stall);
      this.#streams.delete(stream);
      if (this.#streams.size === 0) this.#stopPolling();
    });
    response.on('drain', () => {
      if (!stream.lagging) return;
      stream.lagging = false;
      clearInterval(stream.stall);
      stream.stall = undefined;
      this.#sendSnapshot(stream);
    });
    this.#writeRaw(stream, 'retry: 2000\n\n');
    this.#startPolling();
    void this.#sharedSnapshot().then(
      (built) => {
        if (this.#streams.has(stream)) this.#write(stream, 'snapshot', built.json);
      },
      (error) => this.#fail(error),
    );
  }

  // A refused page means the places are all taken: make the streams that read nothing show it.
  #probeStreams(): void {
    const now = performance.now();
    if (now - this.#probedAt < STREAM_PROBE_INTERVAL_MS) return;
    this.#probedAt = now;
    for (const stream of this.#streams) if (!stream.lagging) this.#writeRaw(stream, STREAM_PROBE);
  }

  #sendSnapshot(stream: Stream): void {
    if (!this.#streams.has(stream)) return;
    this.#write(stream, 'snapshot', this.#recentSnapshot().json);
  }

  #write(stream: Stream, event: string, data: string): void {
    if (stream.lagging) return;
    this.#writeRaw(stream, `id: ${++this.#seq}\nevent: ${event}\ndata: ${data}\n\n`);
  }

  // A page that does not keep up misses updates, and gets a fresh snapshot once it drains; one
  // that takes nothing of its backlog for a whole stall period is closed, so that it gives its
  // place to another page (the 32 places would otherwise be held for as long as such clients like).
  #writeRaw(stream: Stream, text: string): void {
    if (stream.response.write(text) || stream.lagging) return;
    stream.lagging = true;
    let queued = stream.response.socket?.writableLength ?? 0;
    stream.stall = setInterval(() => {
      const now = stream.response.socket?.writableLength ?? 0;
      if (now < queued) {
        queued = now;
        return;
      }
      clearInterval(stream.stall);
      // A reset, not a FIN: the FIN would wait behind megabytes the client never takes, and the
      // kernel would hold them in FIN_WAIT1 long after we let go.
      stream.response.socket?.resetAndDestroy();
    }, this.#stallTimeout);
    stream.stall.unref();
  }

  #startPolling(): void {
    this.#wakeKernel();
    if (this.#statsTimer === undefined) this.#pollStats();
    if (this.#heartbeatTimer === undefined) {
      this.#heartbeatTimer = setInterval(() => {
        for (const stream of this.#streams) if (!stream.lagging) this.#writeRaw(stream, ': ping\n\n');
      }, this.#heartbeat);
      this.#heartbeatTimer.unref();
    }
  }

  #stopPolling(): void {
    clearTimeout(this.#kernelTimer);
    clearTimeout(this.#statsTimer);
    clearInterval(this.#heartbeatTimer);
    this.#kernelTimer = undefined;
    this.#kernelSoonest = false;
    this.#statsTimer = undefined;
    this.#heartbeatTimer = undefined;
  }

  // A read as soon as the reader's pace allows, unless one is running or already due as soon as
  // that. Called for every trace event while a page is open, so it only looks at two flags.
  #wakeKernel(): void {
    if (this.#kernelPolling || this.#kernelSoonest || this.#kernel === undefined) return;
    this.#scheduleKernel(this.#kernel.wait, true);
  }

  #scheduleKernel(delay: number, soonest: boolean): void {
    if (this.#closing !== undefined || this.#streams.size === 0) return;
    clearTimeout(this.#kernelTimer);
    const now = performance.now();
    const paced = this.#busy.busy(now) ? this.#kernelPolledAt + BUSY_KERNEL_INTERVAL_MS - now : 0;
    this.#kernelSoonest = soonest;
    if (paced > delay) {
      // Held back while busy: looked at again when the server may have turned quiet (the load
      // may have ended with this connection, and no event would come to say so).
      const again = Math.min(paced, Math.max(delay, this.#busy.quietAt - now + 1));
      this.#kernelTimer = setTimeout(() => {
        this.#kernelTimer = undefined;
        if (again >= paced) this.#pollKernel();
        else this.#scheduleKernel(Math.max(0, delay - again), soonest);
      }, again);
      this.#kernelTimer.unref();
      return;
    }
    this.#kernelTimer = setTimeout(() => this.#pollKernel(), delay);
    this.#kernelTimer.unref();
  }

  // One read for the pages, then the next one planned by how soon any shown connection may change:
  // none at all once every one has settled (the next trace event wakes the polling again).
  #pollKernel(): void {
    this.#kernelTimer = undefined;
    this.#kernelSoonest = false;
    const kernel = this.#kernel;
    if (kernel === undefined || this.#closing !== undefined || this.#streams.size === 0) return;
    this.#kernelPolling = true;
    this.#kernelPolledAt = performance.now();
    void this.#readKernel(0).then(() => {
      this.#kernelPolling = false;
      if (this.state.dirty) this.#scheduleFlush();
      // Each connection is due its pace after it was last read (at once if never).
      let due = Number.POSITIVE_INFINITY;
      for (const t of this.state.kernelTargets()) {
        const at = this.#kernelReadAt.get(t.id);
        due = Math.min(due, at === undefined ? 0 : at + PACE_MS[t.pace]);
      }
      if (due === Number.POSITIVE_INFINITY) return;
      const wait = kernel.wait;
      const delay = due - performance.now();
      this.#scheduleKernel(Math.max(wait, delay), delay <= wait);
    });
  }

  #pollStats(): void {
    if (this.#closing !== undefined) return;
    this.#statsTimer = setTimeout(() => {
      void this.#refreshStats(true).then(() => {
        this.#scheduleFlush();
        if (this.#streams.size > 0) this.#pollStats();
      });
    }, VIEW_STATS_INTERVAL_MS);
    this.#statsTimer.unref();
  }

  // At most one update per FLUSH_INTERVAL_MS, and no later than that after the last one: a change
  // after a quiet moment goes out at once, changes in a busy one are coalesced.
  #scheduleFlush(): void {
    if (this.#flushTimer !== undefined || this.#closing !== undefined) return;
    const now = performance.now();
    const interval = this.#busy.busy(now) ? BUSY_FLUSH_INTERVAL_MS : FLUSH_INTERVAL_MS;
    const delay = Math.max(0, this.#flushedAt + interval - now);
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flushedAt = performance.now();
      try {
        this.#flush();
      } catch (error) {
        this.#fail(error);
      }
    }, delay);
    this.#flushTimer.unref();
  }

  // One update for every page: the counters, and a sample of the connections that changed (at
  // most VIEW_UPDATE_SAMPLE, the latest to change), however many did: the work and the bytes of
  // an update are bounded, and so is their rate.
  #flush(): void {
    if (this.#streams.size === 0) return;
    const changed = this.state.takeChanged(VIEW_UPDATE_SAMPLE);
    const head = this.#head();
    const update = {
      counters: head.counters,
      stats: head.stats,
      rates: head.rates,
      listen: head.listen,
      kernel: head.kernel,
      viewErrors: head.viewErrors,
      busy: head.busy,
      connections: changed.connections,
      leftOut: changed.leftOut,
      ...(changed.listeners ? { listeners: this.state.listeners() } : {}),
    };
    const data = JSON.stringify(update);
    for (const stream of this.#streams) this.#write(stream, 'update', data);
    // Changes left out of this update go in the next ones, at the same bounded rate.
    if (this.state.dirty) this.#scheduleFlush();
  }
}

/** Builds a {@link ViewServer}; call `listen()` on it. */
export function createViewServer(options: ViewServerOptions): ViewServer {
  return new ViewServer(options);
}
