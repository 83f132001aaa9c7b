/**
 * Validation of the values that options carry. Each function names the offending value.
 */
import { isIP } from 'node:net';
import { InvalidArgumentError, InvalidPortError } from './errors.js';

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
  if (unbracketed !== host && isIP(unbracketed) !== 6) {
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
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}
