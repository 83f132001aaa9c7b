/**
 * Which `Host` an HTTP listener of this project answers (the live view's, the metrics'): the
 * defence against DNS rebinding, where a page of another site has its own name resolve to
 * 127.0.0.1 and then reads the listener as if it were that site. A browser sends the name it
 * looked up, so a listener that answers only the names that are truly its own cannot be read that
 * way. Pure: parsed hosts in, a yes or no out.
 *
 * Always answered: exactly `localhost`, an IPv4 loopback literal in dotted-quad form (127.x.y.z),
 * and `[::1]`; the address the listener is bound to (a wildcard, 0.0.0.0 or ::, adds nothing: its
 * other names must be given); the host it was asked to bind when that is a name; and the names
 * given with `names`. A port, when the Host has one, must be the listener's. Names are compared
 * whole and case-insensitively, never by prefix; a trailing dot (`localhost.`) makes another name.
 */
import { InvalidArgumentError } from '../errors.js';
import { parseIPv4, parseIPv6 } from '../ip-address.js';
import { type HttpHost, parseHttpHost } from '../protocol/http-request.js';

/** Options of a {@link HostAllowlist}. */
export interface HostAllowlistOptions {
  /** The listener's bound address (`127.0.0.1`, `::1`, `0.0.0.0`, `::`, `192.0.2.7`). */
  address: string;
  /** The listener's bound port: the only one a Host may name. */
  port: number;
  /** The host the listener was asked to bind, as given: answered too when it is a name. */
  bindHost?: string;
  /** More names (or addresses) to answer: `view.example`, `192.0.2.7`, `[2001:db8::7]`. */
  names?: readonly string[];
}

const IPV6_LOOPBACK = parseIPv6('::1') ?? new Uint8Array(16);

/**
 * Parses one name given to answer (`--view-allow-host`): a host name, an IPv4 literal, or an IPv6
 * literal with or without brackets; no port. Throws an {@link InvalidArgumentError} naming the value.
 */
export function parseAllowedHost(text: string): HttpHost {
  const bracketed = !text.startsWith('[') && parseIPv6(text) !== undefined ? `[${text}]` : text;
  const host = parseHttpHost(bracketed);
  // A name is letters, digits, dots, hyphens and underscores: a `*` would read as a wildcard, which
  // this list has not.
  const nameOk = host?.kind !== 'name' || /^[a-z0-9._-]+$/.test(host.name);
  if (host === undefined || host.port !== undefined || !nameOk) {
    throw new InvalidArgumentError(
      `invalid allowed host '${text}': expected a host name or an IP address, without a port`,
    );
  }
  return host;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function sameHost(a: HttpHost, b: HttpHost): boolean {
  if (a.kind === 'name') return b.kind === 'name' && a.name === b.name;
  return b.kind === a.kind && sameBytes(a.bytes, b.bytes);
}

/** The hosts one listener answers; see the module's description. */
export class HostAllowlist {
  readonly #port: number;
  readonly #hosts: HttpHost[] = [];

  constructor(options: HostAllowlistOptions) {
    this.#port = options.port;
    const bound = options.address;
    const v4 = parseIPv4(bound);
    const v6 = v4 === undefined ? parseIPv6(bound) : undefined;
    // A wildcard address stands for every address of the machine: none of them is named by it.
    if (v4 !== undefined && !v4.every((byte) => byte === 0)) this.#hosts.push({ kind: 'ipv4', bytes: v4 });
    if (v6 !== undefined && !v6.every((byte) => byte === 0)) this.#hosts.push({ kind: 'ipv6', bytes: v6 });
    const bindHost = options.bindHost;
    if (bindHost !== undefined) {
      const host = parseHttpHost(parseIPv6(bindHost) === undefined ? bindHost : `[${bindHost}]`);
      if (host?.kind === 'name' && host.port === undefined) this.#hosts.push(host);
    }
    for (const name of options.names ?? []) this.#hosts.push(parseAllowedHost(name));
  }

  /** Whether a request whose Host (already parsed) is `host` is answered. */
  allows(host: HttpHost): boolean {
    if (host.port !== undefined && host.port !== this.#port) return false;
    switch (host.kind) {
      case 'name':
        if (host.name === 'localhost') return true;
        break;
      case 'ipv4':
        if (host.bytes[0] === 127) return true;
        break;
      case 'ipv6':
        if (sameBytes(host.bytes, IPV6_LOOPBACK)) return true;
        break;
    }
    return this.#hosts.some((allowed) => sameHost(allowed, host));
  }
}
