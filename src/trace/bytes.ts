/**
 * The bytes themselves, on a channel of their own: each read and write of a TCP connection, each
 * datagram received or sent, as the transports and services see them. `--hex` prints them; the
 * live view keeps the first few KiB of each connection. The trace events say only how many bytes
 * went (and a short preview); this channel carries every byte, so that nothing is copied or kept
 * unless someone subscribes: every publisher checks {@link bytesChannel}'s `hasSubscribers` first.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { DumpDirection } from './hexdump.js';
import type { TraceAddress, TraceRole, TraceTransport } from './schema.js';

/** The channel's name. */
export const BYTES_CHANNEL = 'socket-steps:bytes';

/** The channel object, for publishers inside the library. */
export const bytesChannel = diagnosticsChannel.channel(BYTES_CHANNEL);

/** One read or write (TCP), or one datagram (UDP), with its bytes. */
export interface TraceBytes {
  /** TCP or UDP. */
  transport: TraceTransport;
  /** Our server's bytes or our client's. */
  role: TraceRole;
  /** The server or client object, as in its trace events (`TraceEvent.endpoint`). */
  endpoint: number;
  /** The connection's number, as in its trace events, when there is one. */
  connection?: number | undefined;
  /** Read from the peer (recvfrom for UDP), or written to it (sendto). */
  direction: DumpDirection;
  /** The peer: the client for a server, the server for a client. */
  remote?: TraceAddress | undefined;
  /** The Unix socket's path (`@name` for an abstract one), on a Unix socket, whose peer has no address. */
  path?: string | undefined;
  /**
   * How many bytes went this way on this connection before these, since someone subscribed (the
   * dump's offset column). Each datagram starts at 0: a datagram is a message of its own.
   */
  offset: number;
  /** The bytes. Only valid during the call: copy them to keep them. */
  data: Uint8Array;
  /**
   * For a subscriber that cannot keep up (its output is full): stops reading from this connection
   * until the function it returns is called. Reading resumes only once every hold is released and
   * the service's own flow control lets it. Absent for UDP, whose datagrams cannot be held back.
   */
  hold?: () => () => void;
}

/** What a publisher gives; the offset is counted by {@link publishTraceBytes}. */
export type TraceBytesInit = Omit<TraceBytes, 'offset'>;

// Bytes so far each way, per connection (keyed by its socket): kept with the socket, gone with it.
const counted = new WeakMap<object, { read: number; write: number }>();

/**
 * Publishes `init` with its offset. `stream` is the object the connection's bytes go through (its
 * socket): each direction's offset counts on from the bytes published for it before. Without a
 * stream (a datagram), the offset is 0. Call only when {@link bytesChannel} has subscribers.
 */
export function publishTraceBytes(init: TraceBytesInit, stream?: object): void {
  let offset = 0;
  if (stream !== undefined) {
    let counts = counted.get(stream);
    if (counts === undefined) {
      counts = { read: 0, write: 0 };
      counted.set(stream, counts);
    }
    offset = counts[init.direction];
    counts[init.direction] += init.data.length;
  }
  bytesChannel.publish({ ...init, offset } satisfies TraceBytes);
}

/**
 * Subscribes `listener` to every read, write and datagram's bytes. Returns a function that
 * unsubscribes it.
 * @param listener called synchronously, before the bytes are handed on: copy `data` to keep it.
 */
export function subscribeBytes(listener: (message: TraceBytes) => void): () => void {
  const handler = (message: unknown) => listener(message as TraceBytes);
  diagnosticsChannel.subscribe(BYTES_CHANNEL, handler);
  return () => {
    diagnosticsChannel.unsubscribe(BYTES_CHANNEL, handler);
  };
}
