/**
 * How many file descriptors this process may open, and how many it has open: read from /proc on
 * Linux (`undefined` elsewhere). A server uses them to refuse connections, visibly, before the
 * system runs out of descriptors: libuv then accepts and closes the queued connections without a
 * word to the program (its "EMFILE trick"), so that running out would be silent.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The soft limit on open files (RLIMIT_NOFILE), or undefined when it cannot be read or is unlimited. */
export function descriptorLimit(): number | undefined {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const match = /^Max open files\s+(\d+)\s/m.exec(limits);
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** How many descriptors the process has open now, or undefined when it cannot tell. */
export function openDescriptors(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}
