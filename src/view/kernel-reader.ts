/**
 * Reads the kernel's TCP tables (`/proc/net/tcp` and `/proc/net/tcp6`, no root needed) for the
 * live view, at most a few times a second, off the event loop (fs.promises), and answers for each
 * connection the state of both ends: the row's state, `gone` once the kernel has no row for an end
 * it would list, `unknown` for an end it cannot list (a peer on another host) or without /proc.
 *
 * One read walks every hash bucket of the kernel's table (4–6 ms here even for a few rows), so the
 * reader keeps to its rate, and only the rows of wanted connections are parsed.
 */
import { readFile } from 'node:fs/promises';
import { endianness, networkInterfaces } from 'node:os';
import { VIEW_KERNEL_READS_PER_SECOND } from '../defaults.js';
import {
  type ByteOrder,
  type KernelState,
  type ProcNetRow,
  parseProcNetRow,
  plainAddress,
  procEndpoint,
  rowEnds,
} from './proc-net.js';
import type { ViewAddress } from './state.js';

/** Options of a {@link KernelReader}. */
export interface KernelReaderOptions {
  /** The tables to read. @default ['/proc/net/tcp', '/proc/net/tcp6'] */
  files?: readonly string[];
  /** Most reads a second. @default 5 */
  maxReadsPerSecond?: number;
  /** The clock, in ms. @default performance.now */
  now?: () => number;
  /** Whether the kernel of this machine lists the sockets of a peer at `address`. @default loopback and this host's interface addresses */
  isLocalAddress?: (address: string) => boolean;
}

/** One reading: the rows wanted, when it was taken, and whether the tables could be read at all. */
export interface KernelReading {
  /** When it was taken (the reader's clock). */
  time: number;
  /** False when the tables could not be read (no /proc, another OS): every state is then `unknown`. */
  available: boolean;
  /** How long the read took, in ms. */
  duration: number;
  rows: Map<string, ProcNetRow>;
  /** The 4-tuples looked for (a connection newer than the reading was not). */
  wanted: ReadonlySet<string>;
}

/** Both ends of one connection, by the addresses the server sees. */
export interface KernelEnds {
  /** The server's side (the connection's local address). */
  local: ViewAddress;
  /** The client's side. */
  remote: ViewAddress;
}

const WILDCARD_REMOTE = new Set(['00000000:0000', `${'0'.repeat(32)}:0000`]);

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

/** Reads the kernel's tables at a bounded rate and says what they hold of each connection. */
export class KernelReader {
  readonly #files: readonly string[];
  readonly #interval: number;
  readonly #now: () => number;
  readonly #isLocal: (address: string) => boolean;
  readonly #order: ByteOrder = endianness();
  #last: KernelReading | undefined;
  #reading: Promise<KernelReading> | undefined;
  #lastStart = Number.NEGATIVE_INFINITY;

  constructor(options: KernelReaderOptions = {}) {
    this.#files = options.files ?? ['/proc/net/tcp', '/proc/net/tcp6'];
    this.#interval = 1000 / (options.maxReadsPerSecond ?? VIEW_KERNEL_READS_PER_SECOND);
    this.#now = options.now ?? (() => performance.now());
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

  /** How many ms must pass from the last read's start before the next one may start. */
  get interval(): number {
    return this.#interval;
  }

  /**
   * A reading at most `maxAge` ms old, of the rows of `ends` and of the LISTEN rows of `listening`:
   * the last one if it is fresh enough, else a new read once the rate allows (waiting for it if
   * needed). Never throws: unreadable tables give an `available: false` reading.
   */
  async read(
    ends: readonly KernelEnds[],
    listening: readonly ViewAddress[],
    maxAge: number,
  ): Promise<KernelReading> {
    const last = this.#last;
    if (last !== undefined && this.#now() - last.time <= maxAge) return last;
    if (this.#reading !== undefined) return this.#reading;
    const wait = this.#lastStart + this.#interval - this.#now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (this.#reading !== undefined) return this.#reading;
    this.#lastStart = this.#now();
    this.#reading = this.#readNow(ends, listening).finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  async #readNow(ends: readonly KernelEnds[], listening: readonly ViewAddress[]): Promise<KernelReading> {
    const start = this.#now();
    const wanted = new Set<string>();
    for (const { local, remote } of ends) {
      const l = procEndpoint(local.address, local.port, this.#order);
      const r = procEndpoint(remote.address, remote.port, this.#order);
      for (const a of l) for (const b of r) wanted.add(`${a}>${b}`).add(`${b}>${a}`);
    }
    const listenKeys = new Set<string>();
    for (const a of listening)
      for (const k of procEndpoint(a.address, a.port, this.#order)) listenKeys.add(k);
    const rows = new Map<string, ProcNetRow>();
    let available = false;
    for (const file of this.#files) {
      let text: string;
      try {
        text = await readFile(file, 'latin1');
      } catch {
        continue;
      }
      available = true;
      for (const line of text.split('\n')) {
        const found = rowEnds(line);
        if (found === undefined) continue;
        const local = found.local.toUpperCase();
        const remote = found.remote.toUpperCase();
        const key = `${local}>${remote}`;
        const listen = WILDCARD_REMOTE.has(remote) && listenKeys.has(local);
        if (!listen && !wanted.has(key)) continue;
        const row = parseProcNetRow(line, this.#order);
        if (row === undefined) continue;
        if (listen) {
          if (row.state !== 'LISTEN') continue;
          // Several LISTEN rows on one address (SO_REUSEPORT workers): their queues add up.
          const previous = rows.get(`listen|${local}`);
          if (previous !== undefined) row.rxQueue += previous.rxQueue;
          rows.set(`listen|${local}`, row);
        } else {
          rows.set(key, row);
        }
      }
    }
    const reading: KernelReading = {
      time: this.#now(),
      available,
      duration: this.#now() - start,
      rows,
      wanted,
    };
    this.#last = reading;
    return reading;
  }

  /**
   * What `reading` says of both ends of a connection; undefined when the reading did not look for
   * it (it started before the connection was known): no row then means nothing.
   */
  states(
    reading: KernelReading,
    { local, remote }: KernelEnds,
  ): { server: KernelState; client: KernelState } | undefined {
    if (!reading.available) return { server: 'unknown', client: 'unknown' };
    const l = procEndpoint(local.address, local.port, this.#order);
    const r = procEndpoint(remote.address, remote.port, this.#order);
    if (!reading.wanted.has(`${l[0]}>${r[0]}`)) return undefined;
    const find = (from: string[], to: string[]): ProcNetRow | undefined => {
      for (const a of from) {
        for (const b of to) {
          const row = reading.rows.get(`${a}>${b}`);
          if (row !== undefined) return row;
        }
      }
      return undefined;
    };
    const state = (row: ProcNetRow | undefined, listed: boolean): KernelState => {
      if (row !== undefined) return row.state === 'UNKNOWN' ? 'unknown' : row.state;
      return listed ? 'gone' : 'unknown';
    };
    return {
      server: state(find(l, r), true),
      client: state(find(r, l), this.#isLocal(remote.address)),
    };
  }

  /** Connections waiting in the accept queue of the socket listening on `address`, per `reading`. */
  acceptQueue(reading: KernelReading, address: ViewAddress): number | 'unknown' {
    if (!reading.available) return 'unknown';
    let depth: number | undefined;
    for (const k of procEndpoint(address.address, address.port, this.#order)) {
      const row = reading.rows.get(`listen|${k}`);
      if (row !== undefined) depth = (depth ?? 0) + row.rxQueue;
    }
    return depth ?? 'unknown';
  }
}
