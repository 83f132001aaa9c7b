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
import type { TlsClientOptions } from '../transport/tls-client.js';

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
export function loopbackTarget(address: AddressInfo): {
  /** The address to connect to (`127.0.0.1` for `0.0.0.0`, `::1` for `::`). */
  host: string;
  /** The server's port. */
  port: number;
} {
  const host =
    address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  return { host, port: address.port };
}

/** The line the echo button sends. */
export const VIEW_ECHO_LINE = 'Hello, echo!\n';

/** Runs one client against `target` and resolves with a one-line summary of what it got. */
export async function runViewClient(
  kind: ViewClient,
  target: { host: string; port: number },
  tls?: TlsClientOptions,
): Promise<string> {
  const { host, port } = target;
  // A server that does not answer in time fails the run, nothing more.
  const timeout = VIEW_CLIENT_TIMEOUT_MS;
  switch (kind) {
    case 'hello':
      return `Message from server: ${(await fetchHello({ host, port, timeout, tls })).text}`;
    case 'greet': {
      const result = await greet({ host, port, timeout, tls });
      return result.lines.map((l) => `${l.name}: ${l.text}`).join(' / ');
    }
    case 'echo': {
      const session = await openEcho({ host, port, timeout, tls });
      try {
        const back = await session.echo(Buffer.from(VIEW_ECHO_LINE));
        return `echo: ${back.toString('utf8').trimEnd()}`;
      } finally {
        await session.close();
      }
    }
    case 'udp-hello':
      return `Message from server: ${(await fetchUdpHello({ host, port, timeout: 1000, retries: 1 })).text}`;
    case 'udp-echo': {
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
