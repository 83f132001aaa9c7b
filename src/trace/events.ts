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

import {
  lectureStep,
  type TraceAction,
  type TraceActionOf,
  type TraceAddress,
  type TraceEvent,
  type TraceRole,
  type TraceTransport,
} from './schema.js';

export type { TraceAction, TraceActionOf, TraceAddress, TraceEvent, TraceRole, TraceTransport };
export { lectureStep };

/** Names of the trace channels, one per transport and role. */
export const TRACE_CHANNELS = {
  /** Events of TCP servers (TcpServer and the services on it). */
  tcpServer: 'socket-steps:tcp:server',
  /** Events of TCP clients (connectTcp). */
  tcpClient: 'socket-steps:tcp:client',
  /** Events of UDP servers (UdpServer). */
  udpServer: 'socket-steps:udp:server',
  /** Events of UDP clients. */
  udpClient: 'socket-steps:udp:client',
} as const;

/** The channel objects, for publishers inside the library. */
export const traceChannels = {
  tcpServer: diagnosticsChannel.channel(TRACE_CHANNELS.tcpServer),
  tcpClient: diagnosticsChannel.channel(TRACE_CHANNELS.tcpClient),
  udpServer: diagnosticsChannel.channel(TRACE_CHANNELS.udpServer),
  udpClient: diagnosticsChannel.channel(TRACE_CHANNELS.udpClient),
} as const;

/** Event fields a publisher supplies; the step and times are filled in. */
export type TraceEventInit = Omit<TraceEvent, 'step' | 'time' | 'monotonicNs'>;

/** Completes an event with its lecture step and timestamps. Call only when the channel has subscribers. */
export function makeTraceEvent(init: TraceEventInit): TraceEvent {
  return {
    ...init,
    step: lectureStep(init.transport, init.role, init.action),
    time: performance.timeOrigin + performance.now(),
    // process.hrtime is libuv's uv_hrtime: clock_gettime(CLOCK_MONOTONIC) on Linux, shared by
    // every process, unlike performance.now(), which counts from this process's own start.
    monotonicNs: String(process.hrtime.bigint()),
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

/** Publishes a finished event on the channel of its transport and role (a supervisor passing on a worker's). */
export function publishTraceEvent(event: TraceEvent): void {
  const channel =
    event.transport === 'tcp'
      ? event.role === 'server'
        ? traceChannels.tcpServer
        : traceChannels.tcpClient
      : event.role === 'server'
        ? traceChannels.udpServer
        : traceChannels.udpClient;
  if (channel.hasSubscribers) channel.publish(event);
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
