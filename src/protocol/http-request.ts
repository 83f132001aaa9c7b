/**
 * The two parts of an HTTP/1.1 request that say where it is going, parsed strictly: the `Host`
 * header (RFC 9110 §7.2: `uri-host [ ":" port ]`, uri-host as in RFC 3986 §3.2.2) and the
 * request-target (RFC 9112 §3.2: origin-form, absolute-form, asterisk-form). Pure: text in, a
 * value or `undefined` out, so that a listener can refuse what is malformed (400) before it looks
 * at what is well formed but not its own (403).
 *
 * Strict on purpose: no userinfo, no path, no zone id, no IPvFuture, nothing after an IPv6
 * literal's `]` but a port, a port of digits only (at most 65535). A host is compared as a whole
 * by whoever holds the allowlist; nothing here matches a prefix.
 */
import { parseIPv4, parseIPv6 } from '../ip-address.js';

/** A parsed `Host` (or an absolute-form target's authority). */
export type HttpHost =
  /** A registered name, lower-cased (DNS names are case-insensitive); a trailing dot is kept. */
  | { kind: 'name'; name: string; port?: number }
  /** A dotted-quad IPv4 literal, as its 4 bytes. */
  | { kind: 'ipv4'; bytes: Uint8Array; port?: number }
  /** A bracketed IPv6 literal, as its 16 bytes. */
  | { kind: 'ipv6'; bytes: Uint8Array; port?: number };

// RFC 3986 reg-name: unreserved / pct-encoded / sub-delims, at least one of them.
const REG_NAME = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$/;
const PORT = /^[0-9]{1,5}$/;

/**
 * Parses a `Host` header's value (`localhost:8080`, `127.0.0.1`, `[::1]:9464`), or `undefined` when
 * it is not a well-formed host with an optional port. A dotted quad is an IPv4 literal only in its
 * strict form (`127.0.0.1`, not `127.1` nor `127.0.0.01`): anything else made of reg-name
 * characters is a name.
 */
export function parseHttpHost(value: string): HttpHost | undefined {
  let host: string;
  let portText: string | undefined;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close === -1) return undefined;
    host = value.slice(0, close + 1);
    const after = value.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return undefined;
      portText = after.slice(1);
    }
  } else {
    const colon = value.indexOf(':');
    host = colon === -1 ? value : value.slice(0, colon);
    portText = colon === -1 ? undefined : value.slice(colon + 1);
  }
  let port: number | undefined;
  if (portText !== undefined) {
    // An empty port (`localhost:`) is allowed by RFC 3986 but sent by no client: refused here.
    if (!PORT.test(portText)) return undefined;
    port = Number(portText);
    if (port > 65535) return undefined;
  }
  const withPort = <T extends object>(parsed: T): T & { port?: number } =>
    port === undefined ? parsed : { ...parsed, port };
  if (host.startsWith('[')) {
    const bytes = parseIPv6(host.slice(1, -1));
    return bytes === undefined ? undefined : withPort({ kind: 'ipv6' as const, bytes });
  }
  if (!REG_NAME.test(host)) return undefined;
  const ipv4 = parseIPv4(host);
  if (ipv4 !== undefined) return withPort({ kind: 'ipv4' as const, bytes: ipv4 });
  return withPort({ kind: 'name' as const, name: host.toLowerCase() });
}

/** A parsed request-target. */
export interface HttpTarget {
  /** The path, as sent (`/state`, `//x`); `*` for the asterisk-form. */
  path: string;
  /** What follows the `?`, without it (`id=1-2&lang=ko`); empty when there is none. */
  query: string;
  /** The absolute-form's authority (`GET http://host:port/path`), which stands for the Host header. */
  authority?: string;
}

// RFC 3986 pchar (unreserved / pct-encoded / sub-delims / ":" / "@"), and "/" between segments.
const PATH = /^(?:\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})*)+$/;
// query = *( pchar / "/" / "?" )
const QUERY = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/;
const ABSOLUTE = /^http:\/\/([^/?#]*)(.*)$/i;

/**
 * Parses a request-target, or `undefined` when it is malformed (`//[`, `/a b`, `/%zz`, a fragment,
 * a scheme other than http). `*` (asterisk-form) is accepted for OPTIONS only.
 */
export function parseHttpTarget(target: string, method: string): HttpTarget | undefined {
  if (target === '*') return method === 'OPTIONS' ? { path: '*', query: '' } : undefined;
  let authority: string | undefined;
  let rest = target;
  if (!target.startsWith('/')) {
    // The absolute-form, which a server must accept (RFC 9112 §3.2.2); its authority has no userinfo.
    const absolute = ABSOLUTE.exec(target);
    if (absolute === null) return undefined;
    authority = absolute[1] ?? '';
    if (parseHttpHost(authority) === undefined) return undefined;
    rest = absolute[2] === '' || absolute[2]?.startsWith('?') ? `/${absolute[2]}` : (absolute[2] ?? '/');
  }
  const question = rest.indexOf('?');
  const path = question === -1 ? rest : rest.slice(0, question);
  const query = question === -1 ? '' : rest.slice(question + 1);
  if (!PATH.test(path) || !QUERY.test(query)) return undefined;
  return authority === undefined ? { path, query } : { path, query, authority };
}
