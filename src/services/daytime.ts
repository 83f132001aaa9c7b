/**
 * The daytime service (RFC 867) over TCP and UDP: the server sends the date and time as a line
 * of text (xinetd's format, in UTC); the client prints it, and the moment when it can read it.
 */
import { DAYTIME_MAX_BYTES, type DaytimeReply, decodeDaytime, formatDaytime } from '../protocol/daytime.js';
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

/** Options of {@link createDaytimeServer}. */
export interface DaytimeServerOptions extends OneShotServerOptions {
  /** The clock, in ms since 1970. @default Date.now */
  now?: () => number;
}

function daytimeBytes(now: () => number): Buffer {
  return Buffer.from(formatDaytime(new Date(now())), 'latin1');
}

/** A TCP server that sends each client the daytime line and closes. Call `listen()`. */
export function createDaytimeServer(options: DaytimeServerOptions): TcpServer {
  const now = options.now ?? Date.now;
  return createOneShotServer('daytime', options, () => daytimeBytes(now));
}

/** socket, connect, read until the server closes, close: the server's daytime line. */
export async function fetchDaytime(options: ClassicClientOptions): Promise<DaytimeReply> {
  return decodeDaytime(await readUntilClose(options, DAYTIME_MAX_BYTES, 'a daytime reply'));
}

/** Options of {@link createUdpDaytimeServer}. */
export interface UdpDaytimeServerOptions extends Omit<UdpServerOptions, 'onMessage'> {
  /** The clock, in ms since 1970. @default Date.now */
  now?: () => number;
}

/**
 * A UDP server that answers every datagram with the daytime line, as xinetd's does: not to a
 * source port below 1024 (see `minSourcePort`). Call `listen()`.
 */
export function createUdpDaytimeServer(options: UdpDaytimeServerOptions): UdpServer {
  const now = options.now ?? Date.now;
  return new UdpServer({
    service: 'daytime',
    minSourcePort: 1024,
    ...options,
    onMessage: () => daytimeBytes(now),
  });
}

/** sendto an empty datagram, recvfrom the daytime line. */
export async function fetchUdpDaytime(options: ClassicUdpClientOptions): Promise<DaytimeReply> {
  return decodeDaytime(await requestUdp(options));
}
