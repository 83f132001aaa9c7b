/**
 * The lecture's steps as structured events on `node:diagnostics_channel`.
 *
 * Every transport publishes what happens on its real sockets to one named channel per transport and
 * role. Publishing costs nothing while nobody subscribes (each call site checks `hasSubscribers`
 * first). The CLIs print these events with `--trace`; any other consumer (a web view drawing the
 * lecture's flow diagram, a test, a logger) can subscribe the same way:
 *
 * ```ts
 * import { subscribeTrace } from 'socket-steps';
 * const unsubscribe = subscribeTrace((event) => console.log(event.step, event.action));
 * ```
 */
import diagnosticsChannel from 'node:diagnostics_channel';

/** The transport an event comes from. */
export type TraceTransport = 'tcp' | 'udp';
/** The side of the lecture's diagram an event belongs to. */
export type TraceRole = 'server' | 'client';

/** What happened, named after the system call of the lecture's diagrams where there is one. */
export type TraceAction =
  /** A socket was created (TCP server step 1, client step 1; UDP step 1). */
  | 'socket'
  /** An address was assigned (server step 2). */
  | 'bind'
  /** The socket now accepts connection requests (server step 3). */
  | 'listen'
  /** A connection was accepted (server step 4a). */
  | 'accept'
  /** A connection was established (client step 2). */
  | 'connect'
  /** Bytes were read (server 4b, client 3). */
  | 'read'
  /** Bytes were written (server 4b, client 3). */
  | 'write'
  /** The peer closed its side: read() returned 0 (server 4b, client 3). */
  | 'eof'
  /** Our write side was shut down: FIN sent, reading goes on (server 4b, client 3). */
  | 'shutdown'
  /** A connection's socket was closed (server 4c, client 4). */
  | 'close'
  /** The listening socket was closed (server step 5). */
  | 'stop'
  /** A datagram arrived (UDP). */
  | 'recvfrom'
  /** A datagram was sent (UDP). */
  | 'sendto'
  /** A reply was not sent: its destination is over the reflection rate limit (UDP server). */
  | 'drop'
  /** Something went wrong on a connection or socket. */
  | 'error';

/** An address and port as seen on a socket. */
export interface TraceAddress {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** One step on a live socket. */
export interface TraceEvent {
  transport: TraceTransport;
  role: TraceRole;
  action: TraceAction;
  /** The lecture's step number for this action: `'1'`, `'2'`, `'3'`, `'4a'`, `'4b'`, `'4c'`, `'5'`. */
  step: string;
  /** Identifies the server or client object, unique in this process. */
  endpoint: number;
  /** Identifies the connection (TCP) or exchange within the endpoint, when there is one. */
  connection?: number;
  /** `performance.timeOrigin + performance.now()` at the moment of the event, in ms. */
  time: number;
  /** Our side's address. */
  local?: TraceAddress;
  /** The peer's address. */
  remote?: TraceAddress;
  /** The listen backlog (listen). */
  backlog?: number;
  /** Bytes read or written (read, write, recvfrom, sendto). */
  bytes?: number;
  /**
   * Set when Node performs this step together with others inside one call, so that the step is
   * reported when that call completes rather than at its own system call: e.g. `server.listen()`
   * does socket(), bind() and listen() in one go.
   */
  combinedIn?: string;
  /** Why a connection or socket closed, or what went wrong: `'done'`, `'timeout'`, `ECONNRESET`, ... */
  reason?: string;
}

/** Names of the trace channels, one per transport and role. */
export const TRACE_CHANNELS = {
  tcpServer: 'socket-steps:tcp:server',
  tcpClient: 'socket-steps:tcp:client',
  udpServer: 'socket-steps:udp:server',
  udpClient: 'socket-steps:udp:client',
} as const;

/** The channel objects, for publishers inside the library. */
export const traceChannels = {
  tcpServer: diagnosticsChannel.channel(TRACE_CHANNELS.tcpServer),
  tcpClient: diagnosticsChannel.channel(TRACE_CHANNELS.tcpClient),
  udpServer: diagnosticsChannel.channel(TRACE_CHANNELS.udpServer),
  udpClient: diagnosticsChannel.channel(TRACE_CHANNELS.udpClient),
} as const;

const STEPS: Readonly<Record<string, string>> = {
  'tcp:server:socket': '1',
  'tcp:server:bind': '2',
  'tcp:server:listen': '3',
  'tcp:server:accept': '4a',
  'tcp:server:read': '4b',
  'tcp:server:write': '4b',
  'tcp:server:eof': '4b',
  'tcp:server:shutdown': '4b',
  'tcp:server:error': '4b',
  'tcp:server:close': '4c',
  'tcp:server:stop': '5',
  'tcp:client:socket': '1',
  'tcp:client:connect': '2',
  'tcp:client:read': '3',
  'tcp:client:write': '3',
  'tcp:client:eof': '3',
  'tcp:client:shutdown': '3',
  'tcp:client:error': '3',
  'tcp:client:close': '4',
  'udp:server:socket': '1',
  'udp:server:bind': '2',
  'udp:server:recvfrom': '3',
  'udp:server:sendto': '3',
  'udp:server:drop': '3',
  'udp:server:error': '3',
  'udp:server:close': '4',
  'udp:server:stop': '4',
  'udp:client:socket': '1',
  'udp:client:sendto': '2',
  'udp:client:recvfrom': '3',
  'udp:client:error': '3',
  'udp:client:close': '4',
};

/** The lecture's step number for an action on a transport and role (`'4a'` for a TCP server's accept). */
export function lectureStep(transport: TraceTransport, role: TraceRole, action: TraceAction): string {
  return STEPS[`${transport}:${role}:${action}`] ?? '';
}

/** Event fields a publisher supplies; the step and time are filled in. */
export type TraceEventInit = Omit<TraceEvent, 'step' | 'time'>;

/** Completes an event with its lecture step and timestamp. Call only when the channel has subscribers. */
export function makeTraceEvent(init: TraceEventInit): TraceEvent {
  return {
    ...init,
    step: lectureStep(init.transport, init.role, init.action),
    time: performance.timeOrigin + performance.now(),
  };
}

let nextEndpointId = 1;
/** A process-unique id for a new server or client object. */
export function newEndpointId(): number {
  return nextEndpointId++;
}

/** Converts a Node address object into a trace address. */
export function toTraceAddress(
  address: string | undefined,
  port: number | undefined,
  family?: string,
): TraceAddress | undefined {
  if (address === undefined || port === undefined) return undefined;
  const isV6 = family === 'IPv6' || (family === undefined && address.includes(':'));
  return { address, port, family: isV6 ? 'IPv6' : 'IPv4' };
}

/**
 * Subscribes one listener to every trace channel. Returns a function that unsubscribes it.
 * @param listener called synchronously for each event, on the thread that produced it.
 */
export function subscribeTrace(listener: (event: TraceEvent) => void): () => void {
  const handler = (message: unknown) => listener(message as TraceEvent);
  const names = Object.values(TRACE_CHANNELS);
  for (const name of names) diagnosticsChannel.subscribe(name, handler);
  return () => {
    for (const name of names) diagnosticsChannel.unsubscribe(name, handler);
  };
}
