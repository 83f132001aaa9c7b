/**
 * SIGINT and SIGTERM: how a client turns them into an abort (exit 130/143), and how a server takes
 * the first as "close gracefully" and the second as "stop now".
 */
import { ExitCode } from './program.js';

/** A client's way out on SIGINT/SIGTERM: an AbortSignal, and the exit code the signal asks for. */
export interface SignalAbort {
  /** Aborted on the first SIGINT or SIGTERM. */
  signal: AbortSignal;
  /** 130 after SIGINT, 143 after SIGTERM, `undefined` before either. */
  exitCode(): number | undefined;
  /** Removes the handlers. */
  dispose(): void;
}

/** Turns SIGINT/SIGTERM into an aborted signal (clients end with 130/143); `onSignal` runs too. */
export function abortOnSignals(onSignal?: () => void): SignalAbort {
  const controller = new AbortController();
  let code: number | undefined;
  const handle = (signal: NodeJS.Signals) => {
    code ??= signal === 'SIGINT' ? ExitCode.Interrupted : ExitCode.Terminated;
    controller.abort();
    onSignal?.();
  };
  process.once('SIGINT', handle);
  process.once('SIGTERM', handle);
  return {
    signal: controller.signal,
    exitCode: () => code,
    dispose: () => {
      process.off('SIGINT', handle);
      process.off('SIGTERM', handle);
    },
  };
}

/**
 * A server's signals: `first` on the first SIGINT/SIGTERM, `second` on any later one. The handlers
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
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}
