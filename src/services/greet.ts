import type { Socket } from 'node:net';
import {
  DEFAULT_CLIENT_NAME,
  DEFAULT_CLIENT_TIMEOUT_MS,
  DEFAULT_DIALOGUE_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_LINE_BYTES,
} from '../defaults.js';
import { ConnectionClosedError, IdleTimeoutError, ProtocolError, ReadTimeoutError } from '../errors.js';
import {
  encodeLine,
  formatGreetError,
  type GreetClientFailure,
  GreetErrorCode,
  type GreetServerInput,
  type GreetServerState,
  initialGreetClientState,
  initialGreetServerState,
  stepGreetClient,
  stepGreetServer,
} from '../protocol/greet.js';
import { LineFramer } from '../protocol/line-framer.js';
import { tracePreview } from '../trace/schema.js';
import { connectTcp, readUntil, streamTarget, streamTargetOf } from '../transport/tcp-client.js';
import { TcpServer, type TcpServerOptions } from '../transport/tcp-server.js';
import type { TlsClientOptions } from '../transport/tls-client.js';
import { validateDuration, validateInteger } from '../validate.js';

/** Options of {@link createGreetServer}. */
export interface GreetServerOptions
  extends Omit<TcpServerOptions, 'onConnection' | 'pauseOnConnect' | 'allowHalfOpen'> {
  /**
   * The server's name, in its answer `Hi, Bob. I'm Jane`.
   * @default 'Jane'
   */
  name?: string;
  /**
   * A client that sends nothing for this many ms gets an `idle-timeout` error line and is closed.
   * @default 30000
   */
  idleTimeout?: number;
  /**
   * The whole dialogue must be over within this many ms, however often the client sends a byte
   * (the idle timer restarts on every byte; this one does not): a client still talking then gets a
   * `dialogue-timeout` error line and is closed. Bounds a slowloris client, not a person typing.
   * @default 120000
   */
  dialogueTimeout?: number;
  /**
   * Longest line accepted, in bytes without `\n`; a longer one gets a `line-too-long` error line.
   * @default 1024
   */
  maxLineBytes?: number;
  /**
   * Longest client name accepted, in characters.
   * @default 64
   */
  maxNameLength?: number;
}

/**
 * A server that holds the Bob/Jane dialogue with each client, accepting repeatedly. A connection
 * past `maxConnections` gets the line `ERROR too-many-connections: ...` and is closed. Call
 * `listen()` on the result.
 */
export function createGreetServer(options: GreetServerOptions): TcpServer {
  const idleTimeout = validateDuration(options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_MS, 'idle timeout');
  const dialogueTimeout = validateDuration(
    options.dialogueTimeout ?? DEFAULT_DIALOGUE_TIMEOUT_MS,
    'dialogue timeout',
  );
  const maxLineBytes = validateInteger(
    options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    'max line bytes',
    1,
    2 ** 20,
  );
  const initial = initialGreetServerState({
    name: options.name,
    maxNameLength: options.maxNameLength,
    idleTimeout,
  });
  const refusal =
    options.refusal ??
    encodeLine(formatGreetError(GreetErrorCode.TooManyConnections, 'the server is busy, try again later'));
  const settings: GreetSessionSettings = { initial, idleTimeout, dialogueTimeout, maxLineBytes };
  return new TcpServer({
    service: 'greet',
    ...options,
    refusal,
    allowHalfOpen: true,
    onConnection: ({ socket, id }, server) => startGreetSession(socket, id, server, settings),
  });
}

/** What every session of one server shares. */
interface GreetSessionSettings {
  readonly initial: GreetServerState;
  readonly idleTimeout: number;
  readonly dialogueTimeout: number;
  readonly maxLineBytes: number;
}

// Where a socket keeps its session, for the listeners that all sessions share: an idle connection
// then holds one small object, not a closure per event and the context they capture.
const kSession = Symbol('greet session');
type SessionSocket = Socket & { [kSession]?: GreetSession };

function startGreetSession(
  socket: SessionSocket,
  id: number,
  server: TcpServer,
  settings: GreetSessionSettings,
): void {
  const session = new GreetSession(socket, id, server, settings);
  socket[kSession] = session;
  // One timer per connection, the socket's own (it restarts on every byte read or written): armed
  // for the idle timeout, or for what is left of the dialogue once that is less (see rearm()).
  socket.setTimeout(Math.min(settings.idleTimeout, settings.dialogueTimeout));
  socket.on('timeout', onSessionTimeout);
  socket.on('data', onSessionData);
  socket.on('end', onSessionEnd);
}

function onSessionTimeout(this: SessionSocket): void {
  this[kSession]?.timeout();
}

function onSessionData(this: SessionSocket, chunk: Buffer): void {
  this[kSession]?.data(chunk);
}

function onSessionEnd(this: SessionSocket): void {
  this[kSession]?.end();
}

/** One connection's dialogue: the protocol's state machine joined to the socket. */
class GreetSession {
  readonly socket: Socket;
  readonly id: number;
  readonly server: TcpServer;
  readonly settings: GreetSessionSettings;
  state: GreetServerState;
  // Made on the first byte: a client that never speaks never needs one.
  framer: LineFramer | undefined;
  // When the socket's timer must fire by, in whole ms of performance.now() (a small integer is
  // stored in the object; a fraction would take a heap number of its own): the end of the
  // dialogue, and once our side is done, the end of the time the client has to close its side.
  deadline: number;
  // The timer is armed for the deadline, not for the idle timeout.
  armedForDeadline: boolean;

  constructor(socket: Socket, id: number, server: TcpServer, settings: GreetSessionSettings) {
    this.socket = socket;
    this.id = id;
    this.server = server;
    this.settings = settings;
    this.state = settings.initial;
    this.deadline = Math.ceil(performance.now() + settings.dialogueTimeout);
    this.armedForDeadline = settings.dialogueTimeout < settings.idleTimeout;
  }

  // Our side is done (the state machine said close): what the client sends now is dropped.
  get finished(): boolean {
    return this.state.phase === 'done';
  }

  data(chunk: Buffer): void {
    const { server } = this;
    if (server.tracing) {
      server.trace(
        'read',
        this.id,
        { bytes: chunk.length, text: tracePreview(chunk) },
        { socket: this.socket, data: chunk },
      );
    }
    // Past our end, what the client still sends is dropped, and does not extend its time to close.
    if (this.finished) {
      this.rearm();
      return;
    }
    this.framer ??= new LineFramer({ maxLineBytes: this.settings.maxLineBytes });
    for (const line of this.framer.push(chunk)) {
      if (this.apply({ type: 'line', line })) return;
    }
    if (this.framer.overflow !== undefined && this.apply({ type: 'line-too-long' })) return;
    this.rearm();
  }

  end(): void {
    if (this.server.tracing) this.server.trace('eof', this.id);
    if (!this.finished) this.apply({ type: 'eof' });
  }

  // The timer fired: for what it was armed for. Which is not told by the clock: the timers run on
  // the event loop's clock, which may lag performance.now() by the time the loop has spent in
  // this turn, so a timer armed for the deadline can fire a little before it by our clock.
  timeout(): void {
    const { socket, settings } = this;
    if (this.finished) {
      socket.destroy(new IdleTimeoutError('idle timeout'));
    } else if (this.armedForDeadline) {
      this.apply({ type: 'dialogue-timeout', timeout: settings.dialogueTimeout });
    } else {
      this.apply({ type: 'idle-timeout' });
    }
  }

  // Every byte read or written restarts the socket's timer for as long as it was armed: once less
  // than the idle timeout is left before the deadline, arm it for what is left instead.
  rearm(): void {
    const left = this.deadline - performance.now();
    if (left >= this.settings.idleTimeout) return;
    this.armedForDeadline = true;
    this.socket.setTimeout(Math.max(1, Math.ceil(left)));
  }

  apply(input: GreetServerInput): boolean {
    const { server, socket } = this;
    const step = stepGreetServer(this.state, input);
    // The dialogue just ended: count how (completed, malformed-greeting, idle-timeout, ...).
    if (step.state.phase === 'done' && this.state.phase !== 'done') server.countOutcome(step.state.outcome);
    this.state = step.state;
    for (const reply of step.replies) {
      const bytes = encodeLine(reply);
      socket.write(bytes);
      if (server.tracing) {
        server.trace(
          'write',
          this.id,
          { bytes: bytes.length, text: tracePreview(bytes) },
          { socket, data: bytes },
        );
      }
    }
    if (step.close) this.finish();
    return step.close;
  }

  // Our side is done: send FIN after the replies, and give the client a bounded time (the idle
  // timeout) to close its side, reading and dropping what it still sends, so that it gets our
  // last line, not a reset.
  finish(): void {
    this.framer = undefined;
    const { socket } = this;
    socket.end();
    if (this.server.tracing) this.server.trace('shutdown', this.id);
    // The client has shut down its side already: both FINs are out once ours is.
    if (socket.readableEnded) {
      socket.setTimeout(0);
    } else {
      this.deadline = Math.ceil(performance.now() + this.settings.idleTimeout);
      socket.setTimeout(this.settings.idleTimeout);
    }
  }
}

/** One line of the dialogue, with who said it. */
export interface GreetLine {
  /** Which side said it. */
  speaker: 'client' | 'server';
  /** The speaker's name (the server's, once its answer told it). */
  name: string;
  /** The line, without its `\n`. */
  text: string;
}

/** Options of {@link greet}. */
export interface GreetOptions {
  /** Server address: IPv4 or IPv6 literal or host name. */
  host?: string;
  /** Server port. */
  port?: number;
  /** A Unix domain socket to connect to instead of `host` and `port`: a path, or `@name` (abstract). */
  path?: string;
  /**
   * The client's name, in `Hi. I'm Bob.`
   * @default 'Bob'
   */
  name?: string;
  /**
   * Milliseconds allowed for connect(), and then for each wait for the server.
   * @default 5000
   */
  timeout?: number;
  /**
   * Longest line accepted from the server, in bytes.
   * @default 1024
   */
  maxLineBytes?: number;
  /** Called with each line as it is sent or received, to show the dialogue as it happens. */
  onLine?: (line: GreetLine) => void;
  /** Aborts the dialogue. */
  signal?: AbortSignal;
  /** Speak TLS: verify the server's certificate (see {@link TlsClientOptions}). */
  tls?: TlsClientOptions;
}

/** The dialogue as it happened. */
export interface GreetResult {
  /** Our name. */
  clientName: string;
  /** The server's name, from its answer. */
  serverName: string;
  /** The three lines, in order. */
  lines: GreetLine[];
}

/**
 * The client side of the dialogue: connect, say `Hi. I'm <name>.`, read the answer, say
 * `Nice to meet you, <server>.`, shut down our side and wait for the server to close. Rejects with
 * the errors of `connectTcp`, {@link ProtocolError} (the server sent an `ERROR` line or a malformed
 * answer), {@link ConnectionClosedError} (it closed before answering) or {@link ReadTimeoutError}.
 */
export async function greet(options: GreetOptions): Promise<GreetResult> {
  const timeout = validateDuration(options.timeout ?? DEFAULT_CLIENT_TIMEOUT_MS, 'timeout');
  const maxLineBytes = validateInteger(
    options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    'max line bytes',
    1,
    2 ** 20,
  );
  let state = initialGreetClientState(options.name ?? DEFAULT_CLIENT_NAME);
  const target = streamTarget(options).target;
  const connection = await connectTcp({
    ...streamTargetOf(options),
    timeout,
    signal: options.signal,
    tls: options.tls,
  });
  const { socket } = connection;
  const lines: GreetLine[] = [];
  const say = (text: string) => {
    const bytes = encodeLine(text);
    socket.write(bytes);
    connection.trace('write', { bytes: bytes.length }, bytes);
    const line: GreetLine = { speaker: 'client', name: state.name, text };
    lines.push(line);
    options.onLine?.(line);
  };
  const framer = new LineFramer({ maxLineBytes });
  try {
    const start = stepGreetClient(state, { type: 'start' });
    state = start.state;
    for (const reply of start.replies) say(reply);
    return await readUntil<GreetResult>(
      connection,
      {
        onChunk: (chunk) => {
          if (state.phase === 'done') return undefined;
          for (const bytes of framer.push(chunk)) {
            const step = stepGreetClient(state, { type: 'line', line: bytes });
            state = step.state;
            if (state.phase === 'failed') throw failureError(state.failure, target);
            if (state.phase === 'done') {
              const line: GreetLine = {
                speaker: 'server',
                name: state.serverName,
                text: bytes.toString('utf8'),
              };
              lines.push(line);
              options.onLine?.(line);
            }
            for (const reply of step.replies) say(reply);
            if (step.close) {
              socket.end();
              connection.trace('shutdown');
              return undefined;
            }
          }
          if (framer.overflow !== undefined) {
            throw new ProtocolError(`${target} sent a line longer than ${maxLineBytes} bytes`, {
              call: 'read',
            });
          }
          return undefined;
        },
        onEnd: () => {
          if (state.phase === 'done') {
            return { clientName: state.name, serverName: state.serverName, lines };
          }
          throw new ConnectionClosedError(`${target} closed the connection before answering`, {
            call: 'read',
          });
        },
        onTimeout: () =>
          new ReadTimeoutError(
            state.phase === 'done'
              ? `${target} did not close the connection within ${timeout} ms after the dialogue`
              : `${target} did not answer within ${timeout} ms`,
            { call: 'read' },
          ),
      },
      { timeout, signal: options.signal },
    );
  } finally {
    await connection.close();
  }
}

function failureError(failure: GreetClientFailure, target: string): Error {
  switch (failure.kind) {
    case 'server-error':
      return new ProtocolError(`${target} answered with an error: ${failure.line}`, { call: 'read' });
    case 'malformed-answer':
      return new ProtocolError(
        `${target} did not answer the greeting as expected, it said: ${failure.line}`,
        {
          call: 'read',
        },
      );
    case 'closed':
      return new ConnectionClosedError(`${target} closed the connection before answering`, { call: 'read' });
  }
}
