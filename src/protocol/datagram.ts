/**
 * What one UDP datagram can carry, and the hello message inside one. Pure: no sockets here.
 */
import { MAX_UDP_PAYLOAD_IPV4, MAX_UDP_PAYLOAD_IPV6 } from '../defaults.js';
import { MessageTooLongError } from '../errors.js';

/** An IP version, as Node names it. */
export type IpFamily = 'IPv4' | 'IPv6';

/** The largest payload one UDP datagram can carry over this IP version (65,507 or 65,527 bytes). */
export function maxUdpPayload(family: IpFamily): number {
  return family === 'IPv6' ? MAX_UDP_PAYLOAD_IPV6 : MAX_UDP_PAYLOAD_IPV4;
}

/**
 * Throws {@link MessageTooLongError} (call `sendto`) if `length` bytes do not fit in one datagram
 * over `family`. UDP never splits a message: what does not fit cannot be sent at all.
 */
export function checkDatagramSize(length: number, family: IpFamily): void {
  const max = maxUdpPayload(family);
  if (length > max) {
    throw new MessageTooLongError(
      `message of ${length} bytes is larger than one UDP datagram can carry over ${family} (${max} bytes at most)`,
      { call: 'sendto' },
    );
  }
}

/**
 * The hello message in a datagram: the bytes before the first NUL, or all of them if there is no
 * NUL (what the C client's `printf("%s")` shows of a buffer the server filled).
 */
export function helloMessageOf(datagram: Uint8Array): Buffer {
  const nul = datagram.indexOf(0);
  const bytes = nul === -1 ? datagram : datagram.subarray(0, nul);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
