/**
 * Which peers may send a PROXY protocol header: an allowlist of CIDR blocks (`10.0.0.0/8`,
 * `fd00::/8`, or a bare address for one host). Pure: no sockets here.
 *
 * The spec (proxy-protocol.txt, section 5) says to accept the header only from known sources: a
 * header from anyone else would let them claim any client address. IPv4 is compared as its
 * IPv4-mapped IPv6 form, so `127.0.0.0/8` also matches a peer that a dual-stack socket reports as
 * `::ffff:127.0.0.1`, and an IPv6 block that covers `::ffff:0:0/96` matches IPv4 peers.
 */
import { InvalidArgumentError } from '../errors.js';
import { formatIPv4, formatIPv6, parseDecimal, parseIPv4, parseIPv6 } from '../ip-address.js';

/** One CIDR block, as parsed by {@link parseCidr}. */
export interface CidrBlock {
  /** The block's address family. */
  family: 'IPv4' | 'IPv6';
  /** The network address in canonical form (`10.0.0.0`, `fd00::`). */
  address: string;
  /** Leading bits that must match: 0-32 for IPv4, 0-128 for IPv6. */
  prefixLength: number;
}

/**
 * Parses `address/prefix` or a bare address (a single host: /32 or /128). Throws an
 * {@link InvalidArgumentError} naming the text when the address is not a strict IPv4 or IPv6
 * literal (no zone id, no brackets), the prefix is not 0-32 / 0-128 without leading zeros, or the
 * address has bits set past the prefix (`10.1.2.3/8`: the message suggests `10.0.0.0/8`).
 */
export function parseCidr(text: string): CidrBlock {
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`invalid trusted proxy '${String(text)}': ${why}`);
  };
  if (typeof text !== 'string' || text.length === 0) fail('expected an address or CIDR block');
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const v4 = parseIPv4(addressText);
  const v6 = v4 === undefined ? parseIPv6(addressText) : undefined;
  const bytes = v4 ?? v6;
  if (bytes === undefined) {
    return fail('expected an IPv4 or IPv6 address (like 10.0.0.0/8 or fd00::/8), without brackets or zone');
  }
  const family = v4 === undefined ? 'IPv6' : 'IPv4';
  const maxPrefix = bytes.length * 8;
  let prefixLength = maxPrefix;
  if (slash !== -1) {
    const parsed = parseDecimal(text.slice(slash + 1), maxPrefix);
    if (parsed === undefined)
      return fail(`the prefix length must be a number from 0 to ${maxPrefix} for ${family}`);
    prefixLength = parsed;
  }
  const network = masked(bytes, prefixLength);
  const format = (b: Uint8Array) => (family === 'IPv4' ? formatIPv4(b) : formatIPv6(b));
  if (!network.every((byte, i) => byte === bytes[i])) {
    return fail(
      `bits are set past the /${prefixLength} prefix; did you mean ${format(network)}/${prefixLength}?`,
    );
  }
  return { family, address: format(network), prefixLength };
}

/** An allowlist of proxies: the peers whose PROXY headers a server believes. */
export class TrustedProxies {
  /** The blocks, as parsed. */
  readonly blocks: readonly CidrBlock[];
  // Each block as 16 bytes and a prefix length over 128 bits (IPv4 as ::ffff:a.b.c.d/96+n).
  readonly #ranges: readonly { bytes: Uint8Array; prefixLength: number }[];

  /**
   * @param cidrs blocks or bare addresses; an empty list trusts nobody. Throws an
   * {@link InvalidArgumentError} naming the first bad one (see {@link parseCidr}).
   */
  constructor(cidrs: Iterable<string>) {
    this.blocks = Object.freeze([...cidrs].map(parseCidr));
    this.#ranges = this.blocks.map((block) => {
      const v4 = parseIPv4(block.address);
      return v4 === undefined
        ? { bytes: parseIPv6(block.address) ?? new Uint8Array(16), prefixLength: block.prefixLength }
        : { bytes: mapIPv4(v4), prefixLength: block.prefixLength + 96 };
    });
  }

  /** The blocks as text in canonical form (`10.0.0.0/8`, `::1/128`). */
  get ranges(): string[] {
    return this.blocks.map((b) => `${b.address}/${b.prefixLength}`);
  }

  /**
   * Whether a peer address (as Node reports it: `127.0.0.1`, `::1`, `::ffff:127.0.0.1`, a zone id
   * such as `fe80::1%eth0` is ignored) is in one of the blocks. Anything unparsable is not trusted.
   */
  isTrusted(address: string | undefined): boolean {
    if (typeof address !== 'string') return false;
    const percent = address.indexOf('%');
    const text = percent === -1 ? address : address.slice(0, percent);
    const v4 = parseIPv4(text);
    const bytes = v4 === undefined ? parseIPv6(text) : mapIPv4(v4);
    if (bytes === undefined) return false;
    return this.#ranges.some((range) => matches(bytes, range.bytes, range.prefixLength));
  }
}

function mapIPv4(v4: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(16);
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  bytes.set(v4, 12);
  return bytes;
}

function masked(bytes: Uint8Array, prefixLength: number): Uint8Array {
  return bytes.map((byte, i) => {
    const bits = Math.max(0, Math.min(8, prefixLength - i * 8));
    return byte & ((0xff << (8 - bits)) & 0xff);
  });
}

function matches(address: Uint8Array, network: Uint8Array, prefixLength: number): boolean {
  const full = prefixLength >> 3;
  for (let i = 0; i < full; i++) if (address[i] !== network[i]) return false;
  const rest = prefixLength & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((address[full] ?? 0) & mask) === ((network[full] ?? 0) & mask);
}
