/**
 * The time service (RFC 868) over TCP and UDP: the server sends the time as 4 bytes, big-endian
 * seconds since 1900 (TCP: then closes; UDP: one reply per datagram); the client decodes it.
 */
import { type DecodedTime, decodeTime, encodeTime, TIME_REPLY_BYTES, TimeDecoder } from '../protocol/time.js';
import type { TcpServer } from '../transport/tcp-server.js';
import { UdpServer, type UdpServerOptions } from '../transport/udp-server.js';
import {
  type ClassicClientOptions,
  type ClassicUdpClientOptions,
  createOneShotServer,
  type OneShotServerOptions,
  readUntilClose,
  requestUdp,
} from './one-shot.js';

/** Options of {@link createTimeServer}. */
export interface TimeServerOptions extends OneShotServerOptions {
  /** The clock, in ms since 1970. @default Date.now */
  now?: () => number;
}

/** A TCP server that sends each client the time (4 bytes) and closes. Call `listen()`. */
export function createTimeServer(options: TimeServerOptions): TcpServer {
  const now = options.now ?? Date.now;
  return createOneShotServer('time', options, () => encodeTime(now()), { text: false });
}

/** socket, connect, read the 4 bytes until the server closes, close: the server's time. */
export async function fetchTime(options: ClassicClientOptions): Promise<DecodedTime> {
  // One byte more than a reply, so that a server sending more is told from one sending exactly 4.
  const reply = await readUntilClose(options, TIME_REPLY_BYTES + 1, 'a time reply');
  const decoder = new TimeDecoder();
  decoder.push(reply);
  return decoder.end();
}

/** Options of {@link createUdpTimeServer}. */
export interface UdpTimeServerOptions extends Omit<UdpServerOptions, 'onMessage'> {
  /** The clock, in ms since 1970. @default Date.now */
  now?: () => number;
}

/**
 * A UDP server that answers every datagram with the time (4 bytes), as xinetd's does: not to a
 * source port below 1024 (see `minSourcePort`). Call `listen()`.
 */
export function createUdpTimeServer(options: UdpTimeServerOptions): UdpServer {
  const now = options.now ?? Date.now;
  return new UdpServer({
    service: 'time',
    minSourcePort: 1024,
    ...options,
    onMessage: () => encodeTime(now()),
  });
}

/** sendto an empty datagram, recvfrom the 4-byte reply (RFC 868's UDP exchange), decoded. */
export async function fetchUdpTime(options: ClassicUdpClientOptions): Promise<DecodedTime> {
  return decodeTime(await requestUdp(options));
}
