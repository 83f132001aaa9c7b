/**
 * The view's model: trace events in, the lecture's diagrams out. A reducer of the event stream into
 * listeners (the server's socket/bind/listen), connections (TCP: one per accept; UDP: one per
 * client address and port) with the steps each end has shown, their bytes and lines, and the
 * kernel's state of both ends. Bounded: it keeps the newest {@link ViewStateOptions.maxConnections}
 * connections and the first events of each. Pure: no Node imports, no clock of its own.
 */
import { VIEW_HEX_BYTES, VIEW_MAX_CONNECTIONS, VIEW_MAX_EVENTS } from '../defaults.js';
import type { TraceAddress, TraceEvent } from '../trace/schema.js';
import { type KernelState, plainAddress } from './proc-net.js';

/** An address and port, as `/state` gives them. */
export interface ViewAddress {
  /** The IP address (`''` where the trace gave none). */
  address: string;
  /** The port. */
  port: number;
}

/** The process at the other end of a Unix socket connection (src/view/unix-peers.ts finds it). */
export interface UnixPeer {
  /** Its process id. */
  pid: number;
  /** Its real user id, where /proc/PID/status could be read. */
  uid?: number;
  /** Its command name, as ss gives it (the process's `comm`). */
  command?: string;
}

/** Which end of a connection. */
export type ViewEnd = 'server' | 'client';

/** One item of a connection's sequence diagram. */
export interface ViewEvent {
  /** ms since the epoch (the trace's clock). */
  time: number;
  /** `kernel` for a state change the kernel reported. */
  source: ViewEnd | 'kernel';
  /** The trace action (`accept`, `read`, `write`, `eof`, `shutdown`, `close`, ...) or `state`. */
  action: string;
  /** The lecture's step of the action. */
  step?: string;
  /** Bytes read or written, for a read or write. */
  bytes?: number;
  /** The bytes as text (a preview), where the service gave it. */
  text?: string;
  /** Why a close or error happened (`done`, `ECONNRESET`, ...). */
  reason?: string;
  /** For kernel events: which end changed, and its new state. */
  end?: ViewEnd;
  /** For kernel events: the end's new state. */
  state?: KernelState;
  /** For a TLS handshake: what it agreed on (`TLSv1.3, TLS_AES_256_GCM_SHA384`). */
  tls?: string;
  /** For a TLS handshake: true when it resumed an earlier session. */
  tlsResumed?: boolean;
}

/** One connection (TCP) or one client address of a UDP server, as the page and `/state` show it. */
export interface ViewConnection {
  /** Stable and unique in the view: `<endpoint>-<n>`, with the worker's pid in front under `--workers`. */
  id: string;
  /** TCP or UDP. */
  transport: 'tcp' | 'udp';
  /** The worker process that served it (`--workers`). */
  worker?: number;
  /** The server's side. */
  local: ViewAddress;
  /** The client's side. */
  remote: ViewAddress;
  /** The proxy the client came through, when a PROXY header named the client. */
  proxy?: ViewAddress;
  /**
   * A connection on a Unix domain socket (its `local` and `remote` are then empty): the socket's
   * path, and the process at the other end (`unread` until looked up; `unknown` when it could not
   * be found, the connection closed first, say). The kernel's TCP states do not apply: `kernel`
   * stays `unknown` at both ends.
   */
  unix?: {
    /** The listening socket's path (`@name` for an abstract one). */
    path: string;
    /** The accepted socket's inode, when the trace gave it. */
    inode?: number;
    /** The peer's process. */
    peer: UnixPeer | 'unread' | 'unknown';
  };
  /** The server's steps seen so far, in order, without repeats: `["4a","4b","4c"]`; UDP: calls. */
  steps: string[];
  /** The client's steps: as its own events gave them (`clientSource: 'client'`) or as the server saw them. */
  clientSteps: string[];
  /** Where the client column comes from: the client's own trace (run in this process) or the server's view of it. */
  clientSource: 'client' | 'server';
  /**
   * The kernel's state of each end (TCP), from `ss` (else /proc/net/tcp{,6}): `unread` until a
   * reading has covered the connection; always `unknown` for UDP, which has no connection state.
   */
  kernel: {
    /** The server's end. */
    server: KernelState;
    /** The client's end. */
    client: KernelState;
  };
  /** Bytes the server received: the bytes the client sent. */
  bytesIn: number;
  /** Bytes the server sent: the bytes the client received. */
  bytesOut: number;
  /**
   * TCP: which ends have sent their FIN, as far as the trace (a read() that returned 0, shutdown(),
   * a clean close()) or the kernel's states (FIN_WAIT1/2, CLOSING, TIME_WAIT, LAST_ACK on that end,
   * CLOSE_WAIT, LAST_ACK, CLOSING or TIME_WAIT on the other) show it. Never guessed: false means not
   * known to have been sent.
   */
  finSent: {
    /** The server's FIN. */
    server: boolean;
    /** The client's FIN. */
    client: boolean;
  };
  /** Which side sent its FIN first, once known. */
  closedFirst?: ViewEnd;
  /** False once the server closed its socket. */
  open: boolean;
  /** Why it closed (`done`, `ECONNRESET`, `idle timeout`, ...). */
  reason?: string;
  /** UDP: replies not sent because of the rate limit. */
  dropped?: number;
  /** UDP: datagrams received from this peer. */
  datagramsIn?: number;
  /** UDP: replies sent to this peer. */
  repliesOut?: number;
  /** First event, ms since the epoch. */
  started: number;
  /** Last event, ms since the epoch. */
  updated: number;
  /** The sequence diagram's items, oldest first (at most {@link ViewStateOptions.maxEvents}). */
  events: ViewEvent[];
  /** Events left out past the bound. */
  eventsLeftOut: number;
  /** TCP over TLS: what the handshake agreed on (`TLSv1.3, TLS_AES_256_GCM_SHA384`). */
  tls?: string;
  /**
   * The first bytes each way, in hex digits (two a byte), as the bytes channel gave them: at most
   * {@link ViewStateOptions.maxShownBytes} each way. `in` is what the server read (the client
   * sent), `out` what it wrote. Absent until a byte went; for UDP, the peer's datagrams one after
   * another. `bytesIn` and `bytesOut` say how many went in all.
   */
  shownBytes?: {
    /** The client's bytes to the server. */
    in: string;
    /** The server's bytes to the client. */
    out: string;
  };
}

/** One read or write of a server's connection (or datagram), as the bytes channel gives it. */
export interface ViewBytes {
  /** TCP or UDP. */
  transport: 'tcp' | 'udp';
  /** Only a server's bytes are kept: its client's are the same bytes, seen from the other end. */
  role: 'server' | 'client';
  /** The server, as in its trace events. */
  endpoint: number;
  /** The connection's number (TCP). */
  connection?: number | undefined;
  /** The worker the bytes come from (`--workers`). */
  worker?: number | undefined;
  /** Read (in) or written (out). */
  direction: 'read' | 'write';
  /** The peer (UDP: which row the datagram belongs to). */
  remote?: TraceAddress | undefined;
  /** The bytes. */
  data: Uint8Array;
}

/** A listening (TCP) or bound (UDP) server socket. */
export interface ViewListener {
  /** Stable and unique in the view: the endpoint, with the worker's pid in front under `--workers`. */
  id: string;
  /** TCP or UDP. */
  transport: 'tcp' | 'udp';
  /** The worker process that owns it (`--workers`). */
  worker?: number;
  /** The address it is bound to, once bind() is seen. */
  local?: ViewAddress;
  /** The Unix socket's path it is bound to (`@name` for an abstract one), instead of `local`. */
  path?: string;
  /** The listen() backlog asked for. */
  backlog?: number;
  /** Set when Node did several steps in one call (`server.listen()`). */
  combinedIn?: string;
  /** The inherited descriptor, under socket activation. */
  fd?: number;
  /** `1`, `2`, `3`, `5` (TCP) or `socket`, `bind`, `close` (UDP) seen so far. */
  steps: string[];
  /** Connections waiting in the kernel's accept queue (LISTEN rows' rx), `unknown` where the kernel cannot say. */
  acceptQueue?: number | 'unknown';
}

/** Counts since the view started. */
export interface ViewCounters {
  /** Trace events taken in. */
  events: number;
  /** Connections (TCP) or client addresses (UDP) seen. */
  connections: number;
  /** Connections closed. */
  closed: number;
  /** Connections refused (a limit, a refused PROXY header, ...). */
  refused: number;
  /** UDP: datagrams received. */
  datagrams: number;
  /** UDP: replies sent. */
  replies: number;
  /** UDP: replies not sent because of the rate limit. */
  dropped: number;
}

/** Options of {@link ViewState}. */
export interface ViewStateOptions {
  /** @default 300 */
  maxConnections?: number;
  /** Items kept in each connection's sequence diagram. @default 48 */
  maxEvents?: number;
  /** Bytes kept each way per connection for its dump (its first bytes). @default 4096 */
  maxShownBytes?: number;
  /**
   * Whether a reader will give the kernel's states: when false, a TCP connection's ends start as
   * `unknown` (nothing will ever read them) instead of `unread`. @default true
   */
  kernelReadable?: boolean;
}

// Clients of this process seen connecting, waiting for the server's side of the same connection.
const MAX_PENDING_CLIENTS = 64;
// How long a client that closed before the server saw its datagram or connection waits to be
// joined to it (a UDP discard client sends and closes at once; the server reads a moment later).
const CLOSED_PENDING_MS = 2_000;

/**
 * How soon a connection's kernel states may change, and so how often they are worth reading:
 * `changing` (not read yet, or closing: at the full rate), `open` (ESTABLISHED at both ends while
 * the server holds it: its peer may close unseen, so now and then), `waiting` (only TIME_WAIT
 * left to end, which takes 60 s: seldom).
 */
export type KernelPace = 'changing' | 'open' | 'waiting';

/** What the kernel reader needs to find one connection's rows. */
export interface KernelTarget {
  /** The connection's {@link ViewConnection.id}. */
  id: string;
  /** TCP or UDP (UDP rows carry no connection state). */
  transport: 'tcp' | 'udp';
  /** The server's end. */
  local: ViewAddress;
  /** The client's end. */
  remote: ViewAddress;
  /** How often it is worth reading. */
  pace: KernelPace;
}

/** A Unix socket connection whose peer is to be looked up (see {@link ViewState.unixPeerTargets}). */
export interface UnixPeerTarget {
  /** The connection's {@link ViewConnection.id}. */
  id: string;
  /** The accepted socket's own inode. */
  inode: number;
}

interface PendingClient {
  key?: string;
  steps: string[];
  events: ViewEvent[];
  linked?: ViewConnection;
  /** When the client closed before the server's side appeared (a UDP discard sends and closes). */
  closedAt?: number;
}

function address(a: TraceAddress | undefined): ViewAddress {
  return a === undefined ? { address: '', port: 0 } : { address: a.address, port: a.port };
}

function tupleKey(client: ViewAddress, server: ViewAddress, transport: 'tcp' | 'udp'): string {
  // A UDP server bound to 0.0.0.0 sees its own side only as the wildcard: match on the port.
  const serverSide =
    transport === 'udp' ? `${server.port}` : `${plainAddress(server.address)}:${server.port}`;
  return `${transport}|${plainAddress(client.address)}:${client.port}>${serverSide}`;
}

const HEX_PAIRS = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

// The first `most` bytes of `data` as hex digits.
function hexDigits(data: Uint8Array, most: number): string {
  let out = '';
  const end = Math.min(data.length, most);
  for (let i = 0; i < end; i++) out += HEX_PAIRS[data[i] as number];
  return out;
}

function addOnce(list: string[], item: string | undefined): boolean {
  if (item === undefined || item === '' || list.includes(item)) return false;
  list.push(item);
  return true;
}

// Client steps the server's own events prove (the lecture's client column, seen from the server).
const TCP_CLIENT_IMPLIED: Readonly<Record<string, readonly string[]>> = {
  accept: ['1', '2'],
  read: ['3'],
  eof: ['4'],
};

/**
 * The reducer. Feed it every trace event with {@link apply} and the kernel's states with
 * {@link applyKernel}; read it with {@link connections}, {@link listeners} and {@link takeChanged}.
 */
export class ViewState {
  readonly #maxConnections: number;
  readonly #maxEvents: number;
  readonly #maxShownBytes: number;
  // Insertion order is age order: the oldest connection is the first key.
  readonly #connections = new Map<string, ViewConnection>();
  readonly #byTuple = new Map<string, ViewConnection>();
  readonly #listeners = new Map<string, ViewListener>();
  readonly #pending = new Map<string, PendingClient>();
  readonly #pendingByTuple = new Map<string, PendingClient>();
  readonly #udpSerial = new Map<string, number>();
  // Each connection's address-pair key, computed once.
  readonly #keys = new Map<string, string>();
  readonly #changed = new Set<string>();
  // Ends for which one reading, not yet a second, found no row: see applyKernel.
  readonly #goneOnce = new Map<string, { server: boolean; client: boolean }>();
  readonly #kernelReadable: boolean;
  #listenersChanged = false;
  /** Counts since the view started. */
  readonly counters: ViewCounters = {
    events: 0,
    connections: 0,
    closed: 0,
    refused: 0,
    datagrams: 0,
    replies: 0,
    dropped: 0,
  };

  constructor(options: ViewStateOptions = {}) {
    this.#maxConnections = options.maxConnections ?? VIEW_MAX_CONNECTIONS;
    this.#maxEvents = options.maxEvents ?? VIEW_MAX_EVENTS;
    this.#maxShownBytes = options.maxShownBytes ?? VIEW_HEX_BYTES;
    this.#kernelReadable = options.kernelReadable ?? true;
  }

  /** Connections, newest first. */
  connections(): ViewConnection[] {
    return [...this.#connections.values()].reverse();
  }

  /** One connection by id. */
  connection(id: string): ViewConnection | undefined {
    return this.#connections.get(id);
  }

  /** The server sockets seen. */
  listeners(): ViewListener[] {
    return [...this.#listeners.values()];
  }

  /**
   * Connections whose kernel rows are still worth looking for, oldest first: every TCP connection
   * but those whose ends are both settled (`gone`, or `unknown`: a peer elsewhere), each with how
   * soon its states may change.
   */
  kernelTargets(): KernelTarget[] {
    const targets: KernelTarget[] = [];
    for (const c of this.#connections.values()) {
      if (c.transport !== 'tcp') continue;
      const { server, client } = c.kernel;
      if (SETTLED.has(server) && SETTLED.has(client)) continue;
      let pace: KernelPace = 'changing';
      if (WAITING.has(server) && WAITING.has(client)) pace = 'waiting';
      else if (c.open && server === 'ESTABLISHED' && (client === 'ESTABLISHED' || client === 'unknown')) {
        pace = 'open';
      }
      targets.push({ id: c.id, transport: c.transport, local: c.local, remote: c.remote, pace });
    }
    return targets;
  }

  /**
   * Records what the kernel says of one connection's ends at `time`; each change is added to the
   * sequence diagram. With `confirmGone` (a reading of /proc's text, which the kernel writes in
   * chunks while the table changes, so that a chunk boundary can miss a socket that moves, from
   * its full form to its TIME_WAIT form, say), an end becomes `gone` only when two such readings
   * in a row found no row for it: one miss taken at its word would show a TIME_WAIT end as gone,
   * and a connection whose ends are both gone is not read again.
   */
  applyKernel(
    id: string,
    states: { server: KernelState; client: KernelState },
    time: number,
    { confirmGone = false }: { confirmGone?: boolean } = {},
  ): void {
    const c = this.#connections.get(id);
    if (c === undefined) return;
    for (const end of ['server', 'client'] as const) {
      const state = states[end];
      // 'unread' is where a connection starts, never what a reading says: a reader that has not
      // read since the connection appeared leaves it as it is.
      if (state === 'unread') continue;
      let once = this.#goneOnce.get(id);
      // A row seen again: an earlier miss was only a miss.
      if (state !== 'gone' && once !== undefined) once[end] = false;
      if (c.kernel[end] === state) continue;
      if (state === 'gone' && confirmGone) {
        if (once === undefined) {
          once = { server: false, client: false };
          this.#goneOnce.set(id, once);
        }
        if (!once[end]) {
          once[end] = true;
          continue;
        }
        once[end] = false;
      }
      c.kernel[end] = state;
      this.#push(c, { time, source: 'kernel', action: 'state', end, state });
      this.#touch(c, time);
    }
    // The end that sent the first FIN is the one that waits (FIN_WAIT1/2, TIME_WAIT) while the other
    // does not: the kernel's word on who closed first, over what the trace suggested.
    for (const end of ['server', 'client'] as const) {
      const other = end === 'server' ? 'client' : 'server';
      if (!c.finSent[end] && (SENT_OWN_FIN.has(c.kernel[end]) || GOT_PEER_FIN.has(c.kernel[other]))) {
        c.finSent[end] = true;
        this.#touch(c, time);
      }
    }
    const first = activeCloser(c.kernel.server, c.kernel.client);
    if (first !== undefined && c.closedFirst !== first) {
      c.closedFirst = first;
      this.#touch(c, time);
    }
    // The client's own socket closed (its row is gone or in TIME_WAIT): its step 4, as the kernel saw it.
    if (c.clientSource === 'server' && (states.client === 'gone' || states.client === 'TIME_WAIT')) {
      // Bytes the server wrote to a client that then closed normally were part of its step 3.
      if (c.bytesOut > 0 && !c.clientSteps.includes('3')) c.clientSteps.splice(2, 0, '3');
      if (c.steps.includes('4a') && addOnce(c.clientSteps, '4')) this.#touch(c, time);
    }
  }

  /** Unix socket connections whose peer is still unread, with their inodes (at most `limit`, newest first). */
  unixPeerTargets(limit = 64): UnixPeerTarget[] {
    const targets: UnixPeerTarget[] = [];
    for (const c of this.connections()) {
      if (targets.length >= limit) break;
      if (c.unix?.peer === 'unread' && c.unix.inode !== undefined)
        targets.push({ id: c.id, inode: c.unix.inode });
    }
    return targets;
  }

  /** Records the process at the other end of Unix connection `id` (`unknown` when none was found). */
  applyUnixPeer(id: string, peer: UnixPeer | 'unknown', time: number): void {
    const c = this.#connections.get(id);
    if (c?.unix === undefined) return;
    c.unix.peer = peer;
    this.#touch(c, time);
  }

  /** Sets a listener's accept-queue depth (from the kernel's LISTEN rows). */
  setAcceptQueue(id: string, depth: number | 'unknown'): void {
    const l = this.#listeners.get(id);
    if (l === undefined || l.acceptQueue === depth) return;
    l.acceptQueue = depth;
    this.#listenersChanged = true;
  }

  /**
   * The connections changed and not yet taken, the latest change first, at most `limit`: those
   * are taken off the record; the rest stay on it for the next call (`leftOut` of them), so that
   * every change reaches the pages in time, however many come at once.
   */
  takeChanged(limit: number): {
    /** The changed connections taken, at most `limit`, the latest changes. */
    connections: ViewConnection[];
    /** Whether a listener changed. */
    listeners: boolean;
    /** Changed connections left on the record for the next call. */
    leftOut: number;
  } {
    const listeners = this.#listenersChanged;
    this.#listenersChanged = false;
    const picked: ViewConnection[] = [];
    // The set keeps the order of the latest change: its last items are the ones to take.
    const ids = [...this.#changed];
    for (let i = ids.length - 1; i >= 0 && picked.length < limit; i--) {
      const id = ids[i] ?? '';
      this.#changed.delete(id);
      const c = this.#connections.get(id);
      if (c !== undefined) picked.push(c);
    }
    return { connections: picked, listeners, leftOut: this.#changed.size };
  }

  /** True when something changed since the last {@link takeChanged}. */
  get dirty(): boolean {
    return this.#changed.size > 0 || this.#listenersChanged;
  }

  /** Feeds one trace event. Events of unknown actions or connections never seen are counted and ignored. */
  apply(event: TraceEvent): void {
    this.counters.events++;
    if (event.role === 'client') this.#applyClient(event);
    else if (event.transport === 'tcp') this.#applyTcpServer(event);
    else this.#applyUdpServer(event);
  }

  /**
   * Feeds one read's or write's bytes: the connection keeps its first bytes each way (see
   * {@link ViewConnection.shownBytes}). A client's, and a connection's the view never saw accepted,
   * are ignored.
   */
  applyBytes(bytes: ViewBytes): void {
    if (bytes.role !== 'server') return;
    const worker = bytes.worker === undefined ? '' : `${bytes.worker}-`;
    let c: ViewConnection | undefined;
    if (bytes.transport === 'tcp') {
      if (bytes.connection === undefined) return;
      c = this.#connections.get(`${worker}${bytes.endpoint}-${bytes.connection}`);
    } else if (bytes.remote !== undefined) {
      const local = this.#listeners.get(`${worker}${bytes.endpoint}`)?.local ?? { address: '', port: 0 };
      c = this.#byTuple.get(tupleKey(address(bytes.remote), local, 'udp'));
    }
    if (c === undefined) return;
    c.shownBytes ??= { in: '', out: '' };
    const shown = c.shownBytes;
    const way = bytes.direction === 'read' ? 'in' : 'out';
    const room = this.#maxShownBytes - shown[way].length / 2;
    if (room <= 0) return;
    shown[way] += hexDigits(bytes.data, room);
    this.#touch(c, c.updated);
  }

  #listener(event: TraceEvent): ViewListener {
    const id = `${event.worker === undefined ? '' : `${event.worker}-`}${event.endpoint}`;
    let l = this.#listeners.get(id);
    if (l === undefined) {
      l = { id, transport: event.transport, steps: [] };
      if (event.worker !== undefined) l.worker = event.worker;
      this.#listeners.set(id, l);
    }
    this.#listenersChanged = true;
    return l;
  }

  #listenerStep(event: TraceEvent, step: string): void {
    const l = this.#listener(event);
    addOnce(l.steps, step);
    if (event.local !== undefined) l.local = address(event.local);
    if (event.path !== undefined) l.path = event.path;
    if (event.backlog !== undefined) l.backlog = event.backlog;
    if (event.combinedIn !== undefined) l.combinedIn = event.combinedIn;
    if (event.fd !== undefined) l.fd = event.fd;
  }

  #applyTcpServer(event: TraceEvent): void {
    switch (event.action) {
      case 'socket':
      case 'bind':
      case 'listen':
      case 'stop':
        this.#listenerStep(event, event.step);
        return;
    }
    if (event.connection === undefined) {
      if (event.action === 'close') this.counters.refused++;
      return;
    }
    const id = `${event.worker === undefined ? '' : `${event.worker}-`}${event.endpoint}-${event.connection}`;
    let c = this.#connections.get(id);
    if (c === undefined) {
      if (event.action !== 'accept') return;
      c = this.#add(id, 'tcp', event);
    }
    this.#serverEvent(c, event);
    if (TCP_CLIENT_IMPLIED[event.action] !== undefined && c.clientSource === 'server') {
      for (const step of TCP_CLIENT_IMPLIED[event.action] ?? []) addOnce(c.clientSteps, step);
    }
    switch (event.action) {
      case 'read':
        c.bytesIn += event.bytes ?? 0;
        break;
      case 'write':
        c.bytesOut += event.bytes ?? 0;
        break;
      case 'eof':
        // The client's FIN came before the server had sent its own: the client closed first. Once
        // the server has shut down, an EOF says nothing of the order (the FINs may have crossed).
        if (!c.finSent.server) c.closedFirst ??= 'client';
        c.finSent.client = true;
        break;
      case 'shutdown':
        // Not proof that the server's FIN went first: the client's may already be in the kernel,
        // unread. The kernel's states (or a later EOF on the other side) say.
        c.finSent.server = true;
        break;
      case 'close':
        // Which FIN went first is not in this event (hello never reads the client's): the kernel says.
        c.open = false;
        c.reason = event.reason ?? 'done';
        // A clean close sends the FIN; after an error the socket may have been reset instead.
        if (CLEAN_CLOSE.has(c.reason)) c.finSent.server = true;
        this.counters.closed++;
        break;
    }
  }

  #applyUdpServer(event: TraceEvent): void {
    switch (event.action) {
      case 'socket':
      case 'bind':
      case 'close':
        this.#listenerStep(event, event.action);
        return;
    }
    if (event.remote === undefined) return;
    const listener = `${event.worker === undefined ? '' : `${event.worker}-`}${event.endpoint}`;
    const local = this.#listeners.get(listener)?.local ?? { address: '', port: 0 };
    const key = tupleKey(address(event.remote), local, 'udp');
    let c = this.#byTuple.get(key);
    if (c === undefined) {
      if (event.action !== 'recvfrom') return;
      const n = (this.#udpSerial.get(listener) ?? 0) + 1;
      this.#udpSerial.set(listener, n);
      c = this.#add(`${listener}-${n}`, 'udp', { ...event, local: event.local ?? toTrace(local) });
      c.open = true;
    }
    this.#serverEvent(c, event, event.action);
    switch (event.action) {
      case 'recvfrom':
        this.counters.datagrams++;
        c.datagramsIn = (c.datagramsIn ?? 0) + 1;
        c.bytesIn += event.bytes ?? 0;
        if (c.clientSource === 'server') {
          addOnce(c.clientSteps, 'socket');
          addOnce(c.clientSteps, 'sendto');
        }
        break;
      case 'sendto':
        this.counters.replies++;
        c.repliesOut = (c.repliesOut ?? 0) + 1;
        c.bytesOut += event.bytes ?? 0;
        break;
      case 'drop':
        this.counters.dropped++;
        c.dropped = (c.dropped ?? 0) + 1;
        break;
    }
  }

  #serverEvent(c: ViewConnection, event: TraceEvent, step = event.step): void {
    addOnce(c.steps, step);
    const item: ViewEvent = { time: event.time, source: 'server', action: event.action, step: event.step };
    if (event.bytes !== undefined) item.bytes = event.bytes;
    if (event.text !== undefined) item.text = event.text;
    if (event.reason !== undefined) item.reason = event.reason;
    if (event.tls !== undefined) {
      item.tls = `${event.tls.protocol}, ${event.tls.cipher}`;
      if (event.tls.resumed) item.tlsResumed = true;
      c.tls = item.tls;
    }
    this.#push(c, item);
    this.#touch(c, event.time);
  }

  #add(id: string, transport: 'tcp' | 'udp', event: TraceEvent): ViewConnection {
    const c: ViewConnection = {
      id,
      transport,
      local: address(event.local),
      remote: address(event.remote),
      steps: [],
      clientSteps: [],
      clientSource: 'server',
      // Not read yet (TCP); UDP has no state for the kernel to give.
      kernel:
        transport === 'tcp' && event.path === undefined
          ? this.#kernelReadable
            ? { server: 'unread', client: 'unread' }
            : { server: 'unknown', client: 'unknown' }
          : { server: 'unknown', client: 'unknown' },
      bytesIn: 0,
      bytesOut: 0,
      finSent: { server: false, client: false },
      open: true,
      started: event.time,
      updated: event.time,
      events: [],
      eventsLeftOut: 0,
    };
    if (event.worker !== undefined) c.worker = event.worker;
    if (event.proxy !== undefined) c.proxy = address(event.proxy);
    this.#connections.set(id, c);
    this.counters.connections++;
    if (event.path !== undefined) {
      // No address pair to key it by, nor kernel rows of TCP: its peer is looked up by inode.
      c.unix = { path: event.path, peer: event.inode === undefined ? 'unknown' : 'unread' };
      if (event.inode !== undefined) c.unix.inode = event.inode;
      this.#trim();
      return c;
    }
    const key = tupleKey(c.remote, c.local, transport);
    this.#keys.set(id, key);
    this.#byTuple.set(key, c);
    const pending = this.#pendingByTuple.get(key);
    if (pending !== undefined) {
      if (pending.closedAt === undefined || event.time - pending.closedAt <= CLOSED_PENDING_MS)
        this.#link(pending, c);
      else this.#pendingByTuple.delete(key);
    }
    this.#trim();
    return c;
  }

  // Keeps the newest maxConnections.
  #trim(): void {
    while (this.#connections.size > this.#maxConnections) {
      const oldest = this.#connections.keys().next().value;
      if (oldest === undefined) break;
      this.#remove(oldest);
    }
  }

  #remove(id: string): void {
    const c = this.#connections.get(id);
    if (c === undefined) return;
    this.#connections.delete(id);
    this.#changed.delete(id);
    const key = this.#keys.get(id);
    this.#keys.delete(id);
    this.#goneOnce.delete(id);
    if (key !== undefined && this.#byTuple.get(key) === c) this.#byTuple.delete(key);
  }

  #applyClient(event: TraceEvent): void {
    const pid = `${event.transport}|${event.worker ?? ''}|${event.endpoint}`;
    let p = this.#pending.get(pid);
    if (p === undefined) {
      p = { steps: [], events: [] };
      this.#pending.set(pid, p);
      while (this.#pending.size > MAX_PENDING_CLIENTS) {
        const oldest = this.#pending.keys().next().value;
        if (oldest === undefined) break;
        this.#dropPending(oldest);
      }
    }
    const step = event.transport === 'udp' ? event.action : event.step;
    const item: ViewEvent = { time: event.time, source: 'client', action: event.action, step: event.step };
    if (event.bytes !== undefined) item.bytes = event.bytes;
    if (event.text !== undefined) item.text = event.text;
    if (event.reason !== undefined) item.reason = event.reason;
    const linked = p.linked;
    if (linked !== undefined) {
      addOnce(linked.clientSteps, step);
      clientFin(linked, item);
      this.#push(linked, item);
      this.#touch(linked, event.time);
    } else {
      addOnce(p.steps, step);
      p.events.push(item);
      if (p.events.length > this.#maxEvents) p.events.shift();
    }
    // The client's address pair names the connection: connect() (TCP), the first sendto() (UDP).
    if (p.key === undefined && event.local !== undefined && event.remote !== undefined) {
      p.key = tupleKey(address(event.local), address(event.remote), event.transport);
      const c = this.#byTuple.get(p.key);
      if (c !== undefined) this.#link(p, c);
      else this.#pendingByTuple.set(p.key, p);
    }
    if (event.action === 'close') this.#closePending(pid, p, event.time);
  }

  // A closed client leaves the clients in flight; one the server has not seen yet stays findable
  // by its address pair for a moment, among at most MAX_PENDING_CLIENTS such.
  #closePending(pid: string, p: PendingClient, time: number): void {
    if (p.linked !== undefined || p.key === undefined) {
      this.#dropPending(pid);
      return;
    }
    this.#pending.delete(pid);
    p.closedAt = time;
    // Re-inserted at the end, so that the oldest come first when the bound is passed.
    this.#pendingByTuple.delete(p.key);
    this.#pendingByTuple.set(p.key, p);
    while (this.#pendingByTuple.size > MAX_PENDING_CLIENTS) {
      const oldest = this.#pendingByTuple.keys().next().value;
      if (oldest === undefined) break;
      this.#pendingByTuple.delete(oldest);
    }
  }

  #dropPending(pid: string): void {
    const p = this.#pending.get(pid);
    this.#pending.delete(pid);
    if (p?.key !== undefined && this.#pendingByTuple.get(p.key) === p) this.#pendingByTuple.delete(p.key);
  }

  // A client of this process and the server's side of its connection: one record, both columns.
  #link(p: PendingClient, c: ViewConnection): void {
    if (p.key !== undefined) this.#pendingByTuple.delete(p.key);
    p.linked = c;
    c.clientSource = 'client';
    c.clientSteps = [...p.steps];
    for (const item of p.events) {
      clientFin(c, item);
      this.#push(c, item);
    }
    c.events.sort((a, b) => a.time - b.time);
    p.events = [];
    this.#touch(c, c.updated);
  }

  #push(c: ViewConnection, item: ViewEvent): void {
    if (c.events.length >= this.#maxEvents) {
      c.eventsLeftOut++;
      return;
    }
    c.events.push(item);
  }

  #touch(c: ViewConnection, time: number): void {
    if (time > c.updated) c.updated = time;
    // Re-inserting keeps the set in order of the latest change.
    this.#changed.delete(c.id);
    this.#changed.add(c.id);
  }
}

// The states an end is in only after it sent its FIN, and those it is in only after it got the other's.
const SENT_OWN_FIN: ReadonlySet<KernelState> = new Set([
  'FIN_WAIT1',
  'FIN_WAIT2',
  'CLOSING',
  'TIME_WAIT',
  'LAST_ACK',
]);
const GOT_PEER_FIN: ReadonlySet<KernelState> = new Set(['CLOSE_WAIT', 'LAST_ACK', 'CLOSING', 'TIME_WAIT']);
// Close reasons after which the server's socket ended with a FIN (not a reset).
const CLEAN_CLOSE: ReadonlySet<string> = new Set(['done', 'health check']);

// What a client of this process says of the FINs: its read() returning 0 before it sent its own is
// the server's FIN first; its shutdown() or clean close() is its own FIN, but not that it was first.
function clientFin(c: ViewConnection, item: ViewEvent): void {
  if (c.transport !== 'tcp') return;
  if (item.action === 'eof') {
    if (!c.finSent.client) c.closedFirst ??= 'server';
    c.finSent.server = true;
  } else if (item.action === 'shutdown') {
    c.finSent.client = true;
  } else if (item.action === 'close' && (item.reason === undefined || CLEAN_CLOSE.has(item.reason))) {
    c.finSent.client = true;
  }
}

const CLOSING_FIRST: ReadonlySet<KernelState> = new Set(['FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT']);
const CLOSING_SECOND: ReadonlySet<KernelState> = new Set(['CLOSE_WAIT', 'LAST_ACK', 'gone']);

function activeCloser(server: KernelState, client: KernelState): ViewEnd | undefined {
  if (CLOSING_FIRST.has(server) && CLOSING_SECOND.has(client)) return 'server';
  if (CLOSING_FIRST.has(client) && CLOSING_SECOND.has(server)) return 'client';
  return undefined;
}

// An end in one of these states will not change again: no row left, or none this kernel holds.
const SETTLED: ReadonlySet<KernelState> = new Set(['gone', 'unknown']);
// ... and in these only the end of TIME_WAIT is still to come.
const WAITING: ReadonlySet<KernelState> = new Set(['gone', 'unknown', 'TIME_WAIT']);

function toTrace(a: ViewAddress): TraceAddress {
  return { address: a.address, port: a.port, family: a.address.includes(':') ? 'IPv6' : 'IPv4' };
}
