/**
 * The page's buttons: the lecture's clients, run inside the server's process against that very
 * server (never anywhere else: the target is the server's own bound address, turned into a
 * loopback address when it is a wildcard), so that both columns of the diagram light from one
 * process's trace.
 */
import type { AddressInfo } from 'node:net';
import { VIEW_CLIENT_TIMEOUT_MS } from '../defaults.js';
import { CHARGEN_LINE_BYTES } from '../protocol/chargen.js';
import type { DaytimeReply } from '../protocol/daytime.js';
import { type DecodedTime, formatIsoSeconds } from '../protocol/time.js';
import { fetchUdpChargen, readChargen } from '../services/chargen.js';
import { fetchDaytime, fetchUdpDaytime } from '../services/daytime.js';
import { sendDiscard, sendUdpDiscard } from '../services/discard.js';
import { openEcho } from '../services/echo.js';
import { greet } from '../services/greet.js';
import { fetchHello } from '../services/hello.js';
import { fetchQuote, fetchUdpQuote } from '../services/qotd.js';
import { fetchTime, fetchUdpTime } from '../services/time.js';
import { openUdpEchoClient } from '../services/udp-echo.js';
import { fetchUdpHello } from '../services/udp-hello.js';
import type { TlsClientOptions } from '../transport/tls-client.js';
import { UNIX_FAMILY } from '../unix-address.js';

// The services a page can run a client of, over TCP and over UDP.
const TCP_SERVICES = ['hello', 'greet', 'echo', 'discard', 'chargen', 'daytime', 'time', 'qotd'] as const;
const UDP_SERVICES = ['hello', 'echo', 'discard', 'chargen', 'daytime', 'time', 'qotd'] as const;
// Each of them is a ViewClient (checked by the compiler), and the list below holds them all.

/** The clients a page can run: a TCP service's name, or `udp-` and a UDP service's name. */
export const VIEW_CLIENTS: readonly ViewClient[] = [
  ...TCP_SERVICES,
  ...UDP_SERVICES.map((s): ViewClient => `udp-${s}`),
];
/** A client a page can run. */
export type ViewClient =
  | 'hello'
  | 'greet'
  | 'echo'
  | 'discard'
  | 'chargen'
  | 'daytime'
  | 'time'
  | 'qotd'
  | 'udp-hello'
  | 'udp-echo'
  | 'udp-discard'
  | 'udp-chargen'
  | 'udp-daytime'
  | 'udp-time'
  | 'udp-qotd';

/** The client that speaks to a server of this transport and service, if any. */
export function clientFor(transport: 'tcp' | 'udp', service: string): ViewClient | undefined {
  if (transport === 'tcp') return TCP_SERVICES.find((s) => s === service);
  const udp = UDP_SERVICES.find((s) => s === service);
  return udp === undefined ? undefined : `udp-${udp}`;
}

/** The line the discard button sends. */
export const VIEW_DISCARD_LINE = 'Hello, discard!\n';
/** How much of chargen's stream the chargen button reads and checks: ten lines. */
export const VIEW_CHARGEN_BYTES = 10 * CHARGEN_LINE_BYTES;

function timeText(time: DecodedTime): string {
  return `Time from server: ${formatIsoSeconds(time.date)} (${time.seconds} s since 1900)`;
}

function daytimeText(reply: DaytimeReply): string {
  return `Daytime from server: ${reply.text}`;
}

function quoteText(quote: string): string {
  return `Quote from server: ${quote.trimEnd()}`;
}

/** Where a client of this process reaches a server bound to `address`: a wildcard becomes loopback. */
export function loopbackTarget(address: AddressInfo): ViewClientTarget {
  // A Unix socket's address is its path (see TcpServer.address()).
  if (address.family === UNIX_FAMILY) return { path: address.address };
  const host =
    address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  return { host, port: address.port };
}

/** Where a view's client connects: an address and port, or a Unix socket's path (TCP services only). */
export type ViewClientTarget =
  | {
      /** The address to connect to (`127.0.0.1` for `0.0.0.0`, `::1` for `::`). */
      host: string;
      /** The server's port. */
      port: number;
    }
  | {
      /** The Unix socket's path (`@name` for an abstract one). */
      path: string;
    };

/** The line the echo button sends. */
export const VIEW_ECHO_LINE = 'Hello, echo!\n';

// A UDP button waits 1 s for its reply and sends the request once more.
const UDP_BOUNDS = { timeout: 1000, retries: 1 } as const;

/** Runs one client against `target` and resolves with a one-line summary of what it got. */
export async function runViewClient(
  kind: ViewClient,
  target: ViewClientTarget,
  tls?: TlsClientOptions,
): Promise<string> {
  // A server that does not answer in time fails the run, nothing more.
  const timeout = VIEW_CLIENT_TIMEOUT_MS;
  switch (kind) {
    case 'hello':
      return `Message from server: ${(await fetchHello({ ...target, timeout, tls })).text}`;
    case 'greet': {
      const result = await greet({ ...target, timeout, tls });
      return result.lines.map((l) => `${l.name}: ${l.text}`).join(' / ');
    }
    case 'echo': {
      const session = await openEcho({ ...target, timeout, tls });
      try {
        const back = await session.echo(Buffer.from(VIEW_ECHO_LINE));
        return `echo: ${back.toString('utf8').trimEnd()}`;
      } finally {
        await session.close();
      }
    }
    case 'discard': {
      const sent = await sendDiscard({
        ...ipTarget(target),
        timeout,
        input: [Buffer.from(VIEW_DISCARD_LINE)],
      });
      return `discard: sent ${sent.bytes} bytes, and nothing came back`;
    }
    case 'chargen': {
      const reading = await readChargen({ ...target, timeout, bytes: VIEW_CHARGEN_BYTES });
      return `chargen: ${reading.bytes} bytes read as the pattern (${reading.patterns.join(' or ')}) has them; the first line: ${reading.firstLine.toString('latin1')}`;
    }
    case 'daytime':
      return daytimeText(await fetchDaytime({ ...target, timeout }));
    case 'time':
      return timeText(await fetchTime({ ...target, timeout }));
    case 'qotd':
      return quoteText(await fetchQuote({ ...target, timeout }));
    case 'udp-hello':
      return `Message from server: ${(await fetchUdpHello({ ...ipTarget(target), ...UDP_BOUNDS })).text}`;
    case 'udp-discard': {
      const sent = await sendUdpDiscard({ ...ipTarget(target), datagrams: [Buffer.from(VIEW_DISCARD_LINE)] });
      return `discard: sent ${sent.datagrams ?? 0} datagram (${sent.bytes} bytes); discard answers none`;
    }
    case 'udp-chargen': {
      const reply = await fetchUdpChargen({ ...ipTarget(target), ...UDP_BOUNDS });
      return `chargen: a datagram of ${reply.datagram.length} bytes in ${reply.lines} lines, as the pattern has them`;
    }
    case 'udp-daytime':
      return daytimeText(await fetchUdpDaytime({ ...ipTarget(target), ...UDP_BOUNDS }));
    case 'udp-time':
      return timeText(await fetchUdpTime({ ...ipTarget(target), ...UDP_BOUNDS }));
    case 'udp-qotd':
      return quoteText(await fetchUdpQuote({ ...ipTarget(target), ...UDP_BOUNDS }));
    case 'udp-echo': {
      const client = await openUdpEchoClient(ipTarget(target));
      try {
        const back = await client.echo(Buffer.from(VIEW_ECHO_LINE));
        return `echo: ${back.toString('utf8').trimEnd()}`;
      } finally {
        await client.close();
      }
    }
  }
}

// Node has no Unix datagram sockets: a UDP client always has an address and port.
function ipTarget(target: ViewClientTarget): { host: string; port: number } {
  if ('path' in target) throw new Error('this client needs an address and port, not a Unix socket path');
  return target;
}
