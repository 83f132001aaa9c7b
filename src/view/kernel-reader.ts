/**
 * Reads the kernel's TCP sockets for the live view, and answers for each connection the state of
 * both ends: the socket's state, `gone` once the kernel has no socket for an end it would list,
 * `unknown` for an end it cannot list (a peer on another host) or with nothing to read from.
 *
 * Its cost must not grow with the machine's socket table, which on a busy server holds tens of
 * thousands of TIME_WAIT rows. So it asks iproute2's `ss` (found once, when the reader is made)
 * for only the sockets of the connections wanted: `ss` hands the kernel a bytecode filter over
 * netlink (NETLINK_SOCK_DIAG, which Node cannot open itself), and the kernel returns only those.
 * Each run is bounded in time (killed by its PID past {@link KernelReaderOptions.ssTimeout}) and
 * in output. Where `ss` is missing or keeps failing, it reads `/proc/net/tcp{,6}` whole (no root
 * needed either), which costs in proportion to the table.
 *
 * Either way it keeps its own pace: a read starts at most {@link KernelReaderOptions.maxReadsPerSecond}
 * times a second, and never sooner than 20 times the recent reads' duration after the last one
 * began (10 times for `ss`, whose wall time is mostly its own start), so that reading takes at most
 * a small part of the time however slow the reads get.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { endianness, networkInterfaces } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  VIEW_KERNEL_MAX_CONNECTIONS_PER_READ,
  VIEW_KERNEL_MAX_WAIT_MS,
  VIEW_KERNEL_READ_SPACING,
  VIEW_KERNEL_READS_PER_SECOND,
  VIEW_KERNEL_SS_READ_SPACING,
  VIEW_KERNEL_SS_TIMEOUT_MS,
} from '../defaults.js';
import {
  type ByteOrder,
  canonicalAddress,
  type KernelState,
  parseProcNetRow,
  plainAddress,
  procEndpoint,
  rowEnds,
  type TcpStateName,
} from './proc-net.js';
import { SsFramer, ssFamily, ssFilter } from './ss.js';
import type { ViewAddress } from './state.js';

/** Where the readings come from: `ss` (netlink), the `/proc` tables, or nowhere (every state `unknown`). */
export type KernelSource = 'ss' | 'proc' | 'none';

/** Options of a {@link KernelReader}. */
export interface KernelReaderOptions {
  /** The tables to read where `ss` cannot be used. @default ['/proc/net/tcp', '/proc/net/tcp6'] */
  files?: readonly string[];
  /**
   * The `ss` program, or `false` to read the tables only.
   * @default the first of /usr/bin/ss, /sbin/ss, /usr/sbin/ss, /bin/ss, then PATH, looked up once
   */
  ss?: string | false;
  /** ms an `ss` run may take before it is killed (and that read comes from the tables). @default 1000 */
  ssTimeout?: number;
  /** Most reads a second. @default 5 */
  maxReadsPerSecond?: number;
  /**
   * A read starts no sooner than this many times the recent reads' duration (the median of the
   * last three) after the last one began.
   * @default 10 for `ss` (whose wall time is mostly its own start and the kernel's walk), 20 for /proc
   */
  readSpacing?: number;
  /**
   * With a reading in hand, the most ms a read waits for the pace; past it, the last reading is
   * returned instead of a new one.
   * @default 1000
   */
  maxWait?: number;
  /** The clock, in ms. @default performance.now */
  now?: () => number;
  /** Whether the kernel of this machine lists the sockets of a peer at `address`. @default loopback and this host's interface addresses */
  isLocalAddress?: (address: string) => boolean;
}

/** What a reading holds of one socket. */
export interface KernelRow {
  /** The socket's TCP state as the kernel names it; `UNKNOWN` for a name the view does not know. */
  state: TcpStateName | 'UNKNOWN';
  /** Bytes not yet read; on a LISTEN row, connections waiting to be accepted (summed over listeners). */
  rxQueue: number;
}

/** One reading: the rows wanted, when it was taken, from where, and whether anything could be read. */
export interface KernelReading {
  /** When it was taken (the reader's clock). */
  time: number;
  /** False when nothing could be read (no `ss`, no /proc, another OS): every state is then `unknown`. */
  available: boolean;
  /** Where it came from. */
  source: KernelSource;
  /** How long the read took, in ms. */
  duration: number;
  /** By `local>remote` (see {@link kernelKey}), and `listen|address:port` for LISTEN rows. */
  rows: Map<string, KernelRow>;
  /** The connections looked for, by their server-side key (a connection newer than the reading was not). */
  wanted: ReadonlySet<string>;
}

/** Both ends of one connection, by the addresses the server sees. */
export interface KernelEnds {
  /** The server's side (the connection's local address). */
  local: ViewAddress;
  /** The client's side. */
  remote: ViewAddress;
}

/** The key of one socket in a {@link KernelReading}: its own end, then its peer's, each canonical. */
export function kernelKey(local: ViewAddress, remote: ViewAddress): string {
  return `${canonicalAddress(local.address)}:${local.port}>${canonicalAddress(remote.address)}:${remote.port}`;
}

function listenKey(address: ViewAddress): string {
  return `listen|${canonicalAddress(address.address)}:${address.port}`;
}

/** True for loopback addresses (127/8, ::1, and IPv4-mapped loopback). */
export function isLoopback(address: string): boolean {
  const plain = plainAddress(address);
  return plain.startsWith('127.') || plain === '::1';
}

function hostAddresses(): Set<string> {
  const all = new Set<string>();
  try {
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) all.add(a.address);
    }
  } catch {
    // no interfaces to list: loopback only
  }
  return all;
}

const SS_PLACES = ['/usr/bin/ss', '/sbin/ss', '/usr/sbin/ss', '/bin/ss'];

/** The `ss` program of this machine: the usual places first, then PATH; undefined without one. */
export function findSs(path = process.env.PATH ?? ''): string | undefined {
  const onPath = path
    .split(delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, 'ss'));
  for (const file of [...SS_PLACES, ...onPath]) {
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not there, or not ours to run
    }
  }
  return undefined;
}

// ss's output for a few hundred connections is tens of kB: far more means something else answered.
const MAX_SS_OUTPUT = 4 * 1024 * 1024;
// Runs of ss that fail one after the other before the reader stops asking it.
const MAX_SS_FAILURES = 3;

/** Reads the kernel's sockets at a bounded pace and says what they hold of each connection. */
export class KernelReader {
  readonly #files: readonly string[];
  readonly #interval: number;
  readonly #spacing: number | undefined;
  // The durations of the last reads from one source, newest last (at most 3).
  #durations: number[] = [];
  #pace: number;
  readonly #ssTimeout: number;
  readonly #maxWait: number;
  readonly #now: () => number;
  readonly #isLocal: (address: string) => boolean;
  readonly #order: ByteOrder = endianness();
  #ss: string | undefined;
  #ssFailures = 0;
  #procAvailable = true;
  #last: KernelReading | undefined;
  #reading: Promise<KernelReading> | undefined;
  #lastStart = Number.NEGATIVE_INFINITY;
  #reads = 0;
  #failures = 0;

  constructor(options: KernelReaderOptions = {}) {
    this.#files = options.files ?? ['/proc/net/tcp', '/proc/net/tcp6'];
    this.#interval = 1000 / (options.maxReadsPerSecond ?? VIEW_KERNEL_READS_PER_SECOND);
    this.#pace = this.#interval;
    this.#spacing = options.readSpacing;
    this.#ssTimeout = options.ssTimeout ?? VIEW_KERNEL_SS_TIMEOUT_MS;
    this.#maxWait = options.maxWait ?? VIEW_KERNEL_MAX_WAIT_MS;
    this.#now = options.now ?? (() => performance.now());
    this.#ss = options.ss === false ? undefined : (options.ss ?? findSs());
    if (options.isLocalAddress !== undefined) {
      this.#isLocal = options.isLocalAddress;
    } else {
      const host = hostAddresses();
      this.#isLocal = (address) =>
        isLoopback(address) || host.has(plainAddress(address)) || host.has(address);
    }
  }

  /** The newest reading, if any. */
  get last(): KernelReading | undefined {
    return this.#last;
  }

  /** Where the next reading will come from. */
  get source(): KernelSource {
    if (this.#ss !== undefined) return 'ss';
    return this.#procAvailable ? 'proc' : 'none';
  }

  /** Reads taken so far (each a run of `ss` or a read of the tables). */
  get reads(): number {
    return this.#reads;
  }

  /** Runs of `ss` that failed (timed out, exited with an error, or could not start). */
  get failures(): number {
    return this.#failures;
  }

  /**
   * The least ms from one read's start to the next: the rate's, or the spacing times the recent
   * reads' duration (their median, so that one read slowed by a busy machine does not stall the
   * next ones, while a table that really grows slows the pace within two reads).
   */
  get interval(): number {
    return this.#pace;
  }

  // Worked out once a reading is in, not at each question: the view asks at every trace event.
  #updatePace(): void {
    const recent = [...this.#durations].sort((a, b) => a - b);
    const typical = recent[Math.floor((recent.length - 1) / 2)] ?? 0;
    const spacing =
      this.#spacing ?? (this.#last?.source === 'ss' ? VIEW_KERNEL_SS_READ_SPACING : VIEW_KERNEL_READ_SPACING);
    this.#pace = Math.max(this.#interval, typical * spacing);
  }

  /** ms until a new read may start (0: now). */
  get wait(): number {
    return Math.max(0, this.#lastStart + this.interval - this.#now());
  }

  /**
   * A reading at most `maxAge` ms old, of the sockets of `ends` and the LISTEN sockets of
   * `listening`: the last one if it is fresh enough, else a new read once the pace allows (waiting
   * for it if needed, but never longer than `maxWait` when there is a last reading to give: then
   * that one, older than asked, is the answer, and its `time` says so). Never throws: with nothing to read, the reading says `available: false`.
   * At most {@link VIEW_KERNEL_MAX_CONNECTIONS_PER_READ} connections are looked for, the first
   * ones: put those that matter most first.
   */
  async read(
    ends: readonly KernelEnds[],
    listening: readonly ViewAddress[],
    maxAge: number,
  ): Promise<KernelReading> {
    const last = this.#last;
    if (last !== undefined && this.#now() - last.time <= maxAge) return last;
    if (this.#reading !== undefined) return this.#reading;
    const wait = this.wait;
    if (wait > this.#maxWait && last !== undefined) return last;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (this.#reading !== undefined) return this.#reading;
    this.#lastStart = this.#now();
    this.#reading = this.#readNow(ends.slice(0, VIEW_KERNEL_MAX_CONNECTIONS_PER_READ), listening).finally(
      () => {
        this.#reading = undefined;
      },
    );
    return this.#reading;
  }

  async #readNow(ends: readonly KernelEnds[], listening: readonly ViewAddress[]): Promise<KernelReading> {
    const start = this.#now();
    this.#reads++;
    const wanted = new Set<string>();
    const wantedRows = new Set<string>();
    for (const { local, remote } of ends) {
      const server = kernelKey(local, remote);
      wanted.add(server);
      wantedRows.add(server).add(kernelKey(remote, local));
    }
    const listenKeys = new Set(listening.map(listenKey));
    let rows: Map<string, KernelRow> | undefined;
    let source: KernelSource = 'none';
    const ss = this.#ss;
    if (ss !== undefined) {
      try {
        rows = await this.#readSs(ss, ends, listening, wantedRows, listenKeys);
        source = 'ss';
        this.#ssFailures = 0;
      } catch {
        this.#failures++;
        // A missing program will not appear; a failing one gets a few more chances.
        if (++this.#ssFailures >= MAX_SS_FAILURES) this.#ss = undefined;
      }
    }
    if (rows === undefined) {
      rows = await this.#readProc(ends, listening);
      if (rows !== undefined) source = 'proc';
    }
    const reading: KernelReading = {
      time: this.#now(),
      available: rows !== undefined,
      source,
      duration: this.#now() - start,
      rows: rows ?? new Map(),
      wanted,
    };
    if (this.#last?.source !== reading.source) this.#durations = [];
    this.#durations.push(reading.duration);
    if (this.#durations.length > 3) this.#durations.shift();
    this.#last = reading;
    this.#updatePace();
    return reading;
  }

  // One bounded run of ss with a filter naming only the wanted sockets; rejects if it fails.
  #readSs(
    ss: string,
    ends: readonly KernelEnds[],
    listening: readonly ViewAddress[],
    wanted: ReadonlySet<string>,
    listenKeys: ReadonlySet<string>,
  ): Promise<Map<string, KernelRow>> {
    const rows = new Map<string, KernelRow>();
    const filter = ssFilter(ends, listening);
    if (filter === '') return Promise.resolve(rows);
    return new Promise((resolve, reject) => {
      const framer = new SsFramer();
      let bytes = 0;
      let failure: string | undefined;
      const take = (found: ReturnType<SsFramer['push']>) => {
        for (const row of found) {
          const local = { address: row.localAddress, port: row.localPort };
          if (row.state === 'LISTEN') {
            const key = listenKey(local);
            if (!listenKeys.has(key)) continue;
            // Several LISTEN sockets on one address (SO_REUSEPORT workers): their queues add up.
            const previous = rows.get(key);
            rows.set(key, { state: 'LISTEN', rxQueue: row.recvQ + (previous?.rxQueue ?? 0) });
            continue;
          }
          const key = kernelKey(local, { address: row.peerAddress, port: row.peerPort });
          if (wanted.has(key)) rows.set(key, { state: row.state, rxQueue: row.recvQ });
        }
      };
      // One address family where one is enough: the kernel walks its table once per family.
      const options = `-tanH${ssFamily(ends, listening) ?? ''}`;
      const child = spawn(ss, [options, filter], { stdio: ['ignore', 'pipe', 'ignore'] });
      const stop = (why: string) => {
        failure ??= why;
        // By its PID, the one process this run started.
        child.kill('SIGKILL');
      };
      const timer = setTimeout(() => stop(`ss took longer than ${this.#ssTimeout} ms`), this.#ssTimeout);
      child.stdout.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > MAX_SS_OUTPUT) stop('ss printed more than expected');
        else take(framer.push(chunk));
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        // It cannot start (gone, not executable): stop asking it at once.
        this.#ssFailures = MAX_SS_FAILURES;
        reject(error);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        take(framer.end());
        if (failure === undefined && code === 0) resolve(rows);
        else reject(new Error(failure ?? `ss exited with ${code ?? signal}`));
      });
    });
  }

  // The whole tables, matched row by row against the wanted sockets' own spelling in them.
  async #readProc(
    ends: readonly KernelEnds[],
    listening: readonly ViewAddress[],
  ): Promise<Map<string, KernelRow> | undefined> {
    const wanted = new Set<string>();
    for (const { local, remote } of ends) {
      const l = procEndpoint(local.address, local.port, this.#order);
      const r = procEndpoint(remote.address, remote.port, this.#order);
      for (const a of l) for (const b of r) wanted.add(`${a}>${b}`).add(`${b}>${a}`);
    }
    const listenHex = new Set<string>();
    for (const a of listening) for (const k of procEndpoint(a.address, a.port, this.#order)) listenHex.add(k);
    const listenKeys = new Set(listening.map(listenKey));
    const rows = new Map<string, KernelRow>();
    let available = false;
    for (const file of this.#files) {
      let text: string;
      try {
        text = await readFile(file, 'latin1');
      } catch {
        continue;
      }
      available = true;
      for (let start = 0, nl = 0; start < text.length; start = nl + 1) {
        nl = text.indexOf('\n', start);
        if (nl < 0) nl = text.length;
        const line = text.slice(start, nl);
        const found = rowEnds(line);
        if (found === undefined) continue;
        const local = found.local.toUpperCase();
        const remote = found.remote.toUpperCase();
        const listen = remote.endsWith(':0000') && listenHex.has(local);
        if (!listen && !wanted.has(`${local}>${remote}`)) continue;
        const row = parseProcNetRow(line, this.#order);
        if (row === undefined) continue;
        const end = { address: row.localAddress, port: row.localPort };
        if (listen) {
          const key = listenKey(end);
          if (row.state !== 'LISTEN' || !listenKeys.has(key)) continue;
          const previous = rows.get(key);
          rows.set(key, { state: 'LISTEN', rxQueue: row.rxQueue + (previous?.rxQueue ?? 0) });
        } else {
          const key = kernelKey(end, { address: row.remoteAddress, port: row.remotePort });
          rows.set(key, { state: row.state, rxQueue: row.rxQueue });
        }
      }
    }
    this.#procAvailable = available;
    return available ? rows : undefined;
  }

  /**
   * What `reading` says of both ends of a connection; undefined when the reading did not look for
   * it (it started before the connection was known): the connection stays `unread` then.
   */
  states(
    reading: KernelReading,
    { local, remote }: KernelEnds,
  ):
    | {
        /** The server's end. */
        server: KernelState;
        /** The client's end. */
        client: KernelState;
      }
    | undefined {
    if (!reading.available) return { server: 'unknown', client: 'unknown' };
    const server = kernelKey(local, remote);
    if (!reading.wanted.has(server)) return undefined;
    const state = (row: KernelRow | undefined, listed: boolean): KernelState => {
      if (row !== undefined) return row.state === 'UNKNOWN' ? 'unknown' : row.state;
      return listed ? 'gone' : 'unknown';
    };
    return {
      server: state(reading.rows.get(server), true),
      client: state(reading.rows.get(kernelKey(remote, local)), this.#isLocal(remote.address)),
    };
  }

  /** Connections waiting in the accept queue of the socket listening on `address`, per `reading`. */
  acceptQueue(reading: KernelReading, address: ViewAddress): number | 'unknown' {
    if (!reading.available) return 'unknown';
    return reading.rows.get(listenKey(address))?.rxQueue ?? 'unknown';
  }
}
