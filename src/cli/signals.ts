/**
 * SIGINT, SIGTERM and SIGHUP: how a client turns them into an abort (exit 130/143/129), and how a
 * server takes the first as "close gracefully" and a second as "stop now". SIGHUP (the terminal
 * went away) is a request to stop like SIGTERM: a server closes gracefully rather than being
 * killed mid-connection; run it with nohup or under a process manager to keep it past a logout.
 */
import { ExitCode } from './program.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const EXIT_CODES: Record<(typeof STOP_SIGNALS)[number], number> = {
  SIGINT: ExitCode.Interrupted,
  SIGTERM: ExitCode.Terminated,
  SIGHUP: ExitCode.HungUp,
};

/** A client's way out on SIGINT/SIGTERM/SIGHUP: an AbortSignal, and the exit code the signal asks for. */
export interface SignalAbort {
  /** Aborted on the first SIGINT, SIGTERM or SIGHUP. */
  signal: AbortSignal;
  /** 130 after SIGINT, 143 after SIGTERM, 129 after SIGHUP, `undefined` before any. */
  exitCode(): number | undefined;
  /** Removes the handlers. */
  dispose(): void;
}

/** Turns SIGINT/SIGTERM/SIGHUP into an aborted signal (clients end with 130/143/129); `onSignal` runs too. */
export function abortOnSignals(onSignal?: () => void): SignalAbort {
  const controller = new AbortController();
  let code: number | undefined;
  const handle = (signal: NodeJS.Signals) => {
    code ??= EXIT_CODES[signal as (typeof STOP_SIGNALS)[number]];
    controller.abort();
    onSignal?.();
  };
  for (const signal of STOP_SIGNALS) process.once(signal, handle);
  return {
    signal: controller.signal,
    exitCode: () => code,
    dispose: () => {
      for (const signal of STOP_SIGNALS) process.off(signal, handle);
    },
  };
}

/**
 * A server's signals: `first` on the first SIGINT/SIGTERM/SIGHUP, `second` on any later one. The handlers
 * stay until the process exits: a signal that comes after the server has closed, as it exits, must
 * find ours (with nothing left to stop), not Node's default action.
 */
export function onSignals(first: () => void, second: () => void): void {
  let signals = 0;
  const handle = () => {
    signals++;
    if (signals === 1) first();
    else second();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, handle);
}
