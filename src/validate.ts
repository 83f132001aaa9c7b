/**
 * Validation of the values that options carry. Each function names the offending value. Pure: no
 * Node module, so that the protocols that use it stay pure too.
 */
import { InvalidArgumentError, InvalidPortError } from './errors.js';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * 4 for an IPv4 literal (`127.0.0.1`), 6 for an IPv6 literal (`::1`, `::ffff:127.0.0.1`,
 * `fe80::1%eth0`), 0 for anything else: the same answers as `node:net`'s `isIP`.
 */
export function ipVersion(text: string): 0 | 4 | 6 {
  if (IPV4.test(text)) return 4;
  const percent = text.indexOf('%');
  // A zone id (`%eth0`) follows an address and is not empty.
  const address = percent === -1 ? text : text.slice(0, percent);
  if (percent !== -1 && percent === text.length - 1) return 0;
  const halves = address.split('::');
  if (halves.length > 2) return 0;
  const groups = (half: string): string[] => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  const all = [...head, ...tail];
  // An embedded IPv4 address may end the address, where it takes two groups.
  const last = all.at(-1);
  const ipv4Tail = last !== undefined && IPV4.test(last);
  const hex = ipv4Tail ? all.slice(0, -1) : all;
  if (!hex.every((g) => HEX_GROUP.test(g))) return 0;
  const count = hex.length + (ipv4Tail ? 2 : 0);
  if (halves.length === 2) return count <= 7 ? 6 : 0;
  return count === 8 ? 6 : 0;
}

/** Parses a port given as text (`"9190"`). Only plain decimal digits are accepted. */
export function parsePort(text: string, { allowZero = true }: { allowZero?: boolean } = {}): number {
  if (!/^[0-9]{1,5}$/.test(text)) {
    throw new InvalidPortError(
      `invalid port '${text}': expected a number from ${allowZero ? 0 : 1} to 65535`,
    );
  }
  return validatePort(Number(text), { allowZero });
}

/** Checks a numeric port: an integer from 0 (or 1) to 65535. */
export function validatePort(port: number, { allowZero = true }: { allowZero?: boolean } = {}): number {
  const min = allowZero ? 0 : 1;
  if (!Number.isInteger(port) || port < min || port > 65535) {
    throw new InvalidPortError(`invalid port '${port}': expected a number from ${min} to 65535`);
  }
  return port;
}

/** Checks that a host to bind to is an IP literal (`0.0.0.0`, `::`, `127.0.0.1`, `::1`) or a name. */
export function validateHost(host: string, name = 'host'): string {
  if (typeof host !== 'string' || host.length === 0 || host.length > 253 || /[\s/]/.test(host)) {
    throw new InvalidArgumentError(`invalid ${name} '${String(host)}': expected an IP address or host name`);
  }
  // A bracketed IPv6 literal ([::1]) is what people copy from URLs: accept it.
  const unbracketed = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (unbracketed !== host && ipVersion(unbracketed) !== 6) {
    throw new InvalidArgumentError(`invalid ${name} '${host}': expected an IPv6 address inside [ ]`);
  }
  return unbracketed;
}

/** Checks an integer option within bounds and returns it. */
export function validateInteger(value: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`invalid ${name} '${value}': expected an integer from ${min} to ${max}`);
  }
  return value;
}

/** Checks a duration in milliseconds: a finite number > 0 (and at most about 24 days, Node's timer limit). */
export function validateDuration(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 2_147_483_647) {
    throw new InvalidArgumentError(`invalid ${name} '${value}': expected a positive number of milliseconds`);
  }
  return value;
}

/** Formats an address and port the way people write them: `127.0.0.1:9190`, `[::1]:9190`. */
export function formatAddress(address: string, port: number): string {
  return ipVersion(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Checks where a server listens: a port to bind, or a descriptor it inherited, exactly one of the
 * two. Returns the port (0 with a descriptor) and the descriptor.
 */
export function validateListenSource(
  port: number | undefined,
  fd: number | undefined,
): {
  port: number;
  fd: number | undefined;
} {
  if ((port === undefined) === (fd === undefined)) {
    throw new InvalidArgumentError('give either a port or an inherited descriptor (fd), not both or neither');
  }
  return {
    port: validatePort(port ?? 0),
    fd: fd === undefined ? undefined : validateInteger(fd, 'descriptor', 0, 2 ** 31 - 1),
  };
}
