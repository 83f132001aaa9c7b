/**
 * IP addresses as bytes: strict parsing of IPv4 and IPv6 literals and their canonical text. Pure:
 * no Node module, so that protocol parsers (PROXY headers) and policies (trusted proxies) can use it.
 */

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * The 4 bytes of a dotted-quad IPv4 literal (`192.168.0.1`), or `undefined`. Strict: exactly four
 * decimal numbers from 0 to 255 without leading zeros (`01` could be read as octal) or signs.
 */
export function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const value = parseDecimal(parts[i] ?? '', 255);
    if (value === undefined) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

/**
 * The 16 bytes of an IPv6 literal, or `undefined`. Groups of 1 to 4 hex digits (either case), at
 * most one `::` standing for at least one zero group, and optionally a dotted IPv4 address as the
 * last 32 bits (`::ffff:127.0.0.1`). No zone id (`%eth0`), no brackets: exactly 128 bits.
 */
export function parseIPv6(text: string): Uint8Array | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' || halves[0] === undefined ? [] : halves[0].split(':');
  const tail =
    halves.length === 2 ? (halves[1] === '' || halves[1] === undefined ? [] : halves[1].split(':')) : [];
  const all = [...head, ...tail];
  let ipv4: Uint8Array | undefined;
  if (all.at(-1)?.includes('.')) {
    // A dotted IPv4 part ends the address: after the `::` if there is one.
    if (halves.length === 2 && tail.length === 0) return undefined;
    ipv4 = parseIPv4(all.pop() ?? '');
    if (ipv4 === undefined) return undefined;
    (tail.length > 0 ? tail : head).pop();
  }
  const headWords = head.map(parseHexGroup);
  const tailWords = tail.map(parseHexGroup);
  const total = headWords.length + tailWords.length + (ipv4 === undefined ? 0 : 2);
  if (halves.length === 2 ? total > 7 : total !== 8) return undefined;
  const bytes = new Uint8Array(16);
  const put = (index: number, word: number | undefined): boolean => {
    if (word === undefined) return false;
    bytes[index * 2] = word >> 8;
    bytes[index * 2 + 1] = word & 0xff;
    return true;
  };
  const tailStart = (ipv4 === undefined ? 8 : 6) - tailWords.length;
  if (!headWords.every((word, i) => put(i, word))) return undefined;
  if (!tailWords.every((word, i) => put(tailStart + i, word))) return undefined;
  if (ipv4 !== undefined) bytes.set(ipv4, 12);
  return bytes;
}

/** `a.b.c.d` for 4 bytes of `bytes` from `offset`. */
export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset] ?? 0}.${bytes[offset + 1] ?? 0}.${bytes[offset + 2] ?? 0}.${bytes[offset + 3] ?? 0}`;
}

/**
 * The canonical text of 16 bytes of `bytes` from `offset`, exactly as Node (libuv) prints an
 * address: RFC 5952 (lower-case hex without leading zeros, the longest run of two or more zero
 * groups as `::`, the first one on a tie), with the last 32 bits dotted for an IPv4-mapped address
 * (`::ffff:127.0.0.1`) and for the deprecated IPv4-compatible form (`::1.2.3.4`).
 */
export function formatIPv6(bytes: Uint8Array, offset = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++)
    words.push(((bytes[offset + 2 * i] ?? 0) << 8) | (bytes[offset + 2 * i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart === 0 && (bestLength === 6 || (bestLength === 5 && words[5] === 0xffff))) {
    return `::${bestLength === 5 ? 'ffff:' : ''}${formatIPv4(bytes, offset + 12)}`;
  }
  const hex = (from: number, to: number) =>
    words
      .slice(from, to)
      .map((w) => w.toString(16))
      .join(':');
  if (bestLength < 2) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** A decimal number from 0 to `max` without sign or leading zero, or `undefined`. */
export function parseDecimal(text: string, max: number): number | undefined {
  if (text.length === 0 || text.length > String(max).length) return undefined;
  if (text.length > 1 && text.charCodeAt(0) === DIGIT_0) return undefined;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < DIGIT_0 || c > DIGIT_9) return undefined;
    value = value * 10 + (c - DIGIT_0);
  }
  return value <= max ? value : undefined;
}

function parseHexGroup(group: string): number | undefined {
  if (group.length === 0 || group.length > 4 || !/^[0-9a-fA-F]+$/.test(group)) return undefined;
  return Number.parseInt(group, 16);
}
