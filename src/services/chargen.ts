/**
 * The character generator (RFC 864) over TCP and UDP. Over TCP the server sends the pattern's
 * lines until the client goes away, as fast as the client reads and no faster (backpressure); over
 * UDP it answers each datagram with a few lines. The clients check every byte against the pattern.
 */
import { randomInt } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  DEFAULT_CLIENT_TIMEOUT_MS,
  DEFAULT_ECHO_HIGH_WATER_MARK,
  DEFAULT_IDLE_TIMEOUT_MS,
} from '../defaults.js';
import {
  ConnectionClosedError,
  IdleTimeoutError,
  PatternMismatchError,
  ReadTimeoutError,
} from '../errors.js';
import {
  CHARGEN_LINE_BYTES,
  ChargenGenerator,
  type ChargenMismatch,
  ChargenPattern,
  ChargenVerifier,
  chargenPositions,
  checkChargenDatagram,
  RFC864_MAX_DATAGRAM_BYTES,
  XINETD_DATAGRAM_BYTES,
} from '../protocol/chargen.js';
import { bytesChannel } from '../trace/bytes.js';
import { traceChannels } from '../trace/events.js';
import type { ServerStats } from '../transport/stats.js';
import { connectTcp, readUntil, streamTarget, streamTargetOf } from '../transport/tcp-client.js';
import { TcpServer, type TcpServerOptions } from '../transport/tcp-server.js';
import { UdpServer, type UdpServerOptions } from '../transport/udp-server.js';
import { formatAddress, validateDuration, validateInteger } from '../validate.js';
import type { ClassicClientOptions, ClassicUdpClientOptions } from './one-shot.js';
import { requestUdp } from './one-shot.js';

/** Writes made in one turn of the event loop before letting other clients have theirs. */
const WRITES_PER_TURN = 16;

/** Options of {@link createChargenServer}. */
export interface ChargenServerOptions
  extends Omit<TcpServerOptions, 'onConnection' | 'pauseOnConnect' | 'allowHalfOpen'> {
  /** Which lines to send: RFC 864's example, or xinetd's. @default 'rfc864' */
  pattern?: ChargenPattern;
  /**
   * A client that reads nothing for this many ms (the send buffer stays full) is dropped.
   * @default 30000
   */
  idleTimeout?: number;
  /**
   * Bytes queued for one client before the server waits for them to drain: a client that stops
   * reading costs at most this and one write (95 lines, 7030 bytes) besides the kernel's buffer.
   * @default 65536
   */
  highWaterMark?: number;
  /** Called when the server waits for connection `id` to drain, with the bytes queued for it. */
  onPause?: (id: number, bufferedBytes: number) => void;
}

/** Counters of a chargen server. */
export interface ChargenStats {
  /** Bytes handed to the sockets, over all connections. */
  readonly bytesGenerated: number;
  /** The most bytes ever queued for one connection (bounded by backpressure). */
  readonly peakBufferedBytes: number;
  /** How many times the server waited for a slow reader's queue to drain. */
  readonly pauses: number;
}

interface MutableChargenStats {
  bytesGenerated: number;
  peakBufferedBytes: number;
  pauses: number;
}

/**
 * A TCP chargen server. Each client gets the pattern from its first line, in writes of 95 lines,
 * until it closes the connection (what it sends is read and thrown away; its FIN alone does not
 * stop the stream, as with xinetd). A client that stops reading makes the server wait for
 * 'drain', so memory per client stays bounded. Call `listen()`.
 */
export class ChargenServer extends TcpServer {
  readonly #stats: MutableChargenStats;
  readonly #sessions = new Set<ChargenSession>();
  #finishing = false;

  constructor(options: ChargenServerOptions) {
    const idleTimeout = validateDuration(options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_MS, 'idle timeout');
    const pattern = options.pattern ?? ChargenPattern.Rfc864;
    // Checks the pattern now, not at the first client.
    const linesPerWrite = chargenPositions(pattern);
    const stats: MutableChargenStats = { bytesGenerated: 0, peakBufferedBytes: 0, pauses: 0 };
    super({
      service: 'chargen',
      ...options,
      refusal: options.refusal ?? new Uint8Array(0),
      highWaterMark: options.highWaterMark ?? DEFAULT_ECHO_HIGH_WATER_MARK,
      allowHalfOpen: true,
      onConnection: ({ socket, id }, server) => {
        const session = new ChargenSession(
          socket,
          id,
          server,
          new ChargenGenerator(pattern),
          linesPerWrite,
          stats,
          options.onPause,
        );
        // A client accepted from the queue while the server closes gets its FIN at once.
        if (this.#finishing) {
          session.finish();
          return;
        }
        this.#sessions.add(session);
        socket.once('close', () => this.#sessions.delete(session));
        session.start(idleTimeout);
      },
    });
    this.#stats = stats;
  }

  /**
   * Stops accepting and ends every client's stream: chargen never finishes by itself, so a
   * graceful stop sends what is queued, then the FIN. A client that does not read it is dropped
   * when the close timeout runs out, as with every service.
   */
  override close(): Promise<void> {
    const closed = super.close();
    this.#finishing = true;
    for (const session of this.#sessions) session.finish();
    return closed;
  }

  /** Live counters (also in `snapshot().outcomes`). */
  get stats(): ChargenStats {
    return this.#stats;
  }

  override snapshot(): ServerStats {
    const snapshot = super.snapshot();
    snapshot.outcomes = {
      ...snapshot.outcomes,
      'bytes-generated': this.#stats.bytesGenerated,
      pauses: this.#stats.pauses,
      'peak-buffered-bytes': this.#stats.peakBufferedBytes,
    };
    return snapshot;
  }
}

/** A TCP chargen server (see {@link ChargenServer}). */
export function createChargenServer(options: ChargenServerOptions): ChargenServer {
  return new ChargenServer(options);
}

class ChargenSession {
  #scheduled = false;
  #finished = false;

  constructor(
    readonly socket: Socket,
    readonly id: number,
    readonly server: TcpServer,
    readonly generator: ChargenGenerator,
    readonly linesPerWrite: number,
    readonly stats: MutableChargenStats,
    readonly onPause: ((id: number, bufferedBytes: number) => void) | undefined,
  ) {}

  start(idleTimeout: number): void {
    const { socket } = this;
    socket.setTimeout(idleTimeout, () => socket.destroy(new IdleTimeoutError('idle timeout')));
    // RFC 864: "Any data received is thrown away." Reading it also lets us see the FIN.
    socket.on('data', () => {});
    socket.on('end', () => {
      if (this.server.tracing) this.server.trace('eof', this.id);
    });
    socket.on('drain', () => this.#write());
    this.#write();
  }

  /** No more lines: what is queued goes out, then the FIN. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.socket.end();
  }

  // Writes until the socket's queue is past its high-water mark (then 'drain' calls again), or
  // WRITES_PER_TURN writes went straight to the kernel (then the next turn does): a fast reader on
  // loopback must not keep the event loop from every other client.
  #write(): void {
    const { socket, stats } = this;
    let bytes = 0;
    // --hex needs each write's own bytes: then each write is traced as it goes.
    const dumping = bytesChannel.hasSubscribers;
    for (let i = 0; i < WRITES_PER_TURN; i++) {
      if (this.#finished || socket.destroyed || !socket.writable) return;
      const chunk = this.generator.lines(this.linesPerWrite);
      const more = socket.write(chunk);
      if (dumping) this.server.trace('write', this.id, { bytes: chunk.length }, { socket, data: chunk });
      else bytes += chunk.length;
      stats.bytesGenerated += chunk.length;
      if (socket.writableLength > stats.peakBufferedBytes) stats.peakBufferedBytes = socket.writableLength;
      if (!more) {
        stats.pauses++;
        this.#traceWrite(bytes);
        this.onPause?.(this.id, socket.writableLength);
        return;
      }
    }
    this.#traceWrite(bytes);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#write();
      });
    }
  }

  // One event per burst of writes, not per write: a trace line per 7 KB would drown the rest.
  #traceWrite(bytes: number): void {
    if (bytes > 0 && this.server.tracing) this.server.trace('write', this.id, { bytes });
  }
}

/** Options of {@link readChargen}. */
export interface ReadChargenOptions extends ClassicClientOptions {
  /** How many bytes to read and check, then close. */
  bytes: number;
  /** The patterns the stream may follow. @default both */
  patterns?: readonly ChargenPattern[];
}

/** What {@link readChargen} read. */
export interface ChargenReading {
  /** Bytes read and checked (the `bytes` asked for). */
  bytes: number;
  /** The patterns that fit them (one, unless too few bytes came to tell). */
  patterns: ChargenPattern[];
  /** The first line as it came, without its CR LF (or the first bytes, when fewer were asked for). */
  firstLine: Buffer;
}

function mismatchError(
  target: string,
  mismatch: ChargenMismatch,
  call: 'read' | 'recvfrom',
): PatternMismatchError {
  const show = (b: number) => (b < 0 ? 'the end' : `0x${b.toString(16).padStart(2, '0')}`);
  return new PatternMismatchError(
    `${target}: the chargen pattern breaks at byte offset ${mismatch.offset}: ${show(mismatch.actual)} where ${show(
      mismatch.expected,
    )} was due`,
    { call, offset: mismatch.offset },
  );
}

/**
 * socket, connect, read `bytes` bytes of chargen, checking each against the pattern, close. A
 * wrong byte rejects with {@link PatternMismatchError} (its `offset` says where); a server that
 * closes early with {@link ConnectionClosedError}; a silence of `timeout` ms with
 * {@link ReadTimeoutError}.
 */
export async function readChargen(options: ReadChargenOptions): Promise<ChargenReading> {
  const timeout = validateDuration(options.timeout ?? DEFAULT_CLIENT_TIMEOUT_MS, 'timeout');
  const wanted = validateInteger(options.bytes, 'bytes', 1, Number.MAX_SAFE_INTEGER);
  const verifier = new ChargenVerifier(options.patterns);
  const connection = await connectTcp({
    ...streamTargetOf(options),
    timeout,
    signal: options.signal,
    tls: options.tls,
  });
  const target = streamTarget(options).target;
  const head: Buffer[] = [];
  let headBytes = 0;
  try {
    return await readUntil(
      connection,
      {
        onChunk: (chunk) => {
          const need = wanted - verifier.offset;
          const checked = chunk.length > need ? chunk.subarray(0, need) : chunk;
          if (headBytes < CHARGEN_LINE_BYTES) {
            const part = checked.subarray(0, CHARGEN_LINE_BYTES - headBytes);
            head.push(Buffer.from(part));
            headBytes += part.length;
          }
          const mismatch = verifier.push(checked);
          if (mismatch !== undefined) throw mismatchError(target, mismatch, 'read');
          if (verifier.offset < wanted) return undefined;
          connection.socket.pause();
          const first = Buffer.concat(head);
          const crlf = first.indexOf('\r\n');
          return {
            bytes: wanted,
            patterns: verifier.patterns,
            firstLine: crlf === -1 ? first : first.subarray(0, crlf),
          };
        },
        onEnd: () => {
          throw new ConnectionClosedError(
            `${target} closed the connection after ${verifier.offset} of ${wanted} bytes`,
            { call: 'read' },
          );
        },
        onTimeout: () =>
          new ReadTimeoutError(
            `${target} sent ${verifier.offset} of ${wanted} bytes, then nothing for ${timeout} ms`,
            {
              call: 'read',
            },
          ),
      },
      { timeout, signal: options.signal },
    );
  } finally {
    const closed = connection.close();
    if (traceChannels.tcpClient.hasSubscribers) await closed;
  }
}

/** Options of {@link createUdpChargenServer}. */
export interface UdpChargenServerOptions extends Omit<UdpServerOptions, 'onMessage'> {
  /**
   * `rfc864`: each reply holds a random number of characters, 0 to 512 (RFC 864), in whole lines
   * but the last; `xinetd`: each reply is 1024 bytes, 13 lines and one of 60 characters, as
   * xinetd's. Either way the lines go on from where the last reply, to anyone, stopped.
   * @default 'rfc864'
   */
  pattern?: ChargenPattern;
  /** The reply size for the `rfc864` pattern, 0 to 512. @default a random integer, crypto.randomInt */
  size?: () => number;
}

/**
 * A UDP chargen server: a classic amplifier (up to 1024 bytes for an empty datagram), so it keeps
 * the rate limit and answers no source port below 1024. Call `listen()`.
 */
export function createUdpChargenServer(options: UdpChargenServerOptions): UdpServer {
  const pattern = options.pattern ?? ChargenPattern.Rfc864;
  const generator = new ChargenGenerator(pattern);
  const randomSize = options.size ?? (() => randomInt(0, RFC864_MAX_DATAGRAM_BYTES + 1));
  const size =
    pattern === ChargenPattern.Xinetd
      ? () => XINETD_DATAGRAM_BYTES
      : () => Math.min(RFC864_MAX_DATAGRAM_BYTES, Math.max(0, Math.trunc(randomSize())));
  return new UdpServer({
    service: 'chargen',
    minSourcePort: 1024,
    ...options,
    onMessage: () => generator.datagram(size()),
  });
}

/** What {@link fetchUdpChargen} received. */
export interface UdpChargenReply {
  /** The datagram. */
  datagram: Buffer;
  /** Its lines (whole or cut, each with its CR LF). */
  lines: number;
}

/**
 * sendto an empty datagram, recvfrom the reply, and check it: lines of a chargen pattern, in
 * order. A wrong byte rejects with {@link PatternMismatchError}.
 */
export async function fetchUdpChargen(
  options: ClassicUdpClientOptions & { patterns?: readonly ChargenPattern[] },
): Promise<UdpChargenReply> {
  const datagram = await requestUdp(options);
  const mismatch = checkChargenDatagram(datagram, options.patterns);
  if (mismatch !== undefined)
    throw mismatchError(formatAddress(options.host, options.port), mismatch, 'recvfrom');
  let lines = 0;
  for (let i = 0; i + 1 < datagram.length; i++) if (datagram[i] === 0x0d && datagram[i + 1] === 0x0a) lines++;
  return { datagram, lines };
}
