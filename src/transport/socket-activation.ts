/**
 * systemd socket activation (sd_listen_fds(3)): systemd, or `systemd-socket-activate`, binds the
 * listening socket itself and starts the program with it open as descriptor 3, saying so in
 * `LISTEN_PID` (the pid the sockets are meant for) and `LISTEN_FDS` (how many, from 3 on). The
 * socket is bound before the program starts, so a client that connects first waits in its queue.
 */

/** The first descriptor passed by socket activation (`SD_LISTEN_FDS_START`). */
export const LISTEN_FDS_START = 3;

/** The environment variables of socket activation. */
export const LISTEN_ENV = ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES'] as const;

/** What socket activation passed to this process. */
export interface ActivatedSockets {
  /** The descriptors, from {@link LISTEN_FDS_START} on. */
  fds: number[];
  /** Their names (`FileDescriptorName=` in the unit), when systemd gave them. */
  names: string[];
}

/**
 * The sockets systemd passed to process `pid`, read from `env`; `undefined` when there are none
 * for it. Variables meant for another process (a parent that was activated and did not clear
 * them) are ignored, as sd_listen_fds(3) says. Pure: reads only its arguments.
 */
export function activatedSockets(
  env: Readonly<Record<string, string | undefined>>,
  pid: number,
): ActivatedSockets | undefined {
  const listenPid = env.LISTEN_PID;
  const listenFds = env.LISTEN_FDS;
  if (listenPid === undefined || listenFds === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(listenPid) || Number(listenPid) !== pid) return undefined;
  if (!/^[1-9][0-9]*$/.test(listenFds)) return undefined;
  const count = Math.min(Number(listenFds), 1024);
  const fds = Array.from({ length: count }, (_, i) => LISTEN_FDS_START + i);
  const names = env.LISTEN_FDNAMES === undefined ? [] : env.LISTEN_FDNAMES.split(':');
  return { fds, names };
}

/**
 * Removes the socket-activation variables from `env`, so that no child process (a `--workers`
 * worker, say) takes the sockets as meant for itself.
 */
export function clearActivationEnv(env: Record<string, string | undefined>): void {
  for (const name of LISTEN_ENV) delete env[name];
}
