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

// Connections the process's HTTP listeners (the view's, the metrics') hold now, all of them.
let httpHeld = 0;

/**
 * Counts one connection of an HTTP listener as held until the returned function is called (once).
 * The TCP servers of the same process read the total ({@link httpDescriptorsHeld}): those
 * connections come out of their descriptor reserve first, then out of their own room.
 */
export function holdHttpDescriptor(): () => void {
  httpHeld++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    httpHeld--;
  };
}

/** How many connections the process's HTTP listeners hold now. */
export function httpDescriptorsHeld(): number {
  return httpHeld;
}

/**
 * The part of a descriptor reserve that HTTP listeners may hold without taking from a TCP
 * server's connections: a quarter of it. A TCP server at its limit keeps up to half of its reserve
 * for the refused sockets that wait to get their refusal; with this quarter, a quarter is always
 * left for files, DNS and the view's reads of /proc, whatever the two sides do.
 */
export function httpShareOfReserve(reserve: number): number {
  return Math.floor(reserve / 4);
}

/**
 * How many descriptors an HTTP listener leaves free when it takes a connection: half the reserve.
 * With the service idle, the HTTP listeners may use the rest of the reserve down to this.
 */
export function httpFloorOfReserve(reserve: number): number {
  return Math.floor(reserve / 2);
}
