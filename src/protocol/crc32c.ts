/**
 * CRC-32C (Castagnoli), the checksum of RFC 4960 Appendix B that the PROXY protocol v2 uses in
 * its CRC32C TLV. Pure and table-driven: Node has no CRC-32C of its own (zlib's crc32 is the other
 * polynomial).
 */

// The reflected form of the Castagnoli polynomial 0x1EDC6F41.
const POLYNOMIAL = 0x82f63b78;

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * The CRC-32C of `bytes[start, end)` as an unsigned 32-bit number (`crc32c("123456789")` is
 * `0xe3069283`). Pass a previous result as `crc` to continue a checksum over more bytes.
 */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = start; i < end; i++) c = (TABLE[(c ^ (bytes[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  return ~c >>> 0;
}
