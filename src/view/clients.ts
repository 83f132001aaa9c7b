/**
 * The page's buttons: the lecture's clients, run inside the server's process against that very
 * server (never anywhere else: the target is the server's own bound address, turned into a
 * loopback address when it is a wildcard), so that both columns of the diagram light from one
 * process's trace.
 */
import type { AddressInfo } from 'node:net';
import { VIEW_CLIENT_TIMEOUT_MS } from '../defaults.js';
import { openEcho } from '../services/echo.js';
import { greet } from '../services/greet.js';
import { fetchHello } from '../services/hello.js';
import { openUdpEchoClient } from '../services/udp-echo.js';
import { fetchUdpHello } from '../services/udp-hello.js';
import { UNIX_FAMILY } from '../unix-address.js';

/** The clients a page can run. */
export const VIEW_CLIENTS = ['hello', 'greet', 'echo', 'udp-hello', 'udp-echo'] as const;
/** A client a page can run. */
export type ViewClient = (typeof VIEW_CLIENTS)[number];

/** The client that speaks to a server of this transport and service, if any. */
export function clientFor(transport: 'tcp' | 'udp', service: string): ViewClient | undefined {
  if (transport === 'tcp') {
    return service === 'hello' || service === 'greet' || service === 'echo' ? service : undefined;
  }
  return service === 'hello' ? 'udp-hello' : service === 'echo' ? 'udp-echo' : undefined;
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

/** Runs one client against `target` and resolves with a one-line summary of what it got. */
export async function runViewClient(kind: ViewClient, target: ViewClientTarget): Promise<string> {
  // A server that does not answer in time fails the run, nothing more.
  const timeout = VIEW_CLIENT_TIMEOUT_MS;
  switch (kind) {
    case 'hello':
      return `Message from server: ${(await fetchHello({ ...target, timeout })).text}`;
    case 'greet': {
      const result = await greet({ ...target, timeout });
      return result.lines.map((l) => `${l.name}: ${l.text}`).join(' / ');
    }
    case 'echo': {
      const session = await openEcho({ ...target, timeout });
      try {
        const back = await session.echo(Buffer.from(VIEW_ECHO_LINE));
        return `echo: ${back.toString('utf8').trimEnd()}`;
      } finally {
        await session.close();
      }
    }
    case 'udp-hello': {
      const { host, port } = udpTarget(target);
      return `Message from server: ${(await fetchUdpHello({ host, port, timeout: 1000, retries: 1 })).text}`;
    }
    case 'udp-echo': {
      const { host, port } = udpTarget(target);
      const client = await openUdpEchoClient({ host, port });
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
function udpTarget(target: ViewClientTarget): { host: string; port: number } {
  if ('path' in target) throw new Error('a UDP client needs an address and port, not a Unix socket path');
  return target;
}
