/**
 * Every signal that would end a program, and what it does instead. SIGINT, SIGTERM and SIGHUP
 * are the ways to ask a program to stop: a client turns them into an abort (exit 130/143/129),
 * a server takes the first as "close gracefully" (exit 0) and a second as "stop now". SIGHUP (the
 * terminal went away) is a request to stop like SIGTERM: a server closes gracefully rather than
 * being killed mid-connection; run it with nohup or under a process manager to keep it past a
 * logout.
 *
 * The other signals whose default action ends a process (SIGQUIT, SIGUSR2, SIGALRM, SIGVTALRM,
 * SIGPROF, SIGXCPU, SIGXFSZ, SIGPWR, SIGIO, SIGSTKFLT) would kill it at once, with no word and
 * connections cut: each is taken as SIGTERM is, with one line naming it, and the program ends
 * with 128 + its number. Left to their default: SIGKILL and SIGSTOP (cannot be caught), SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP and SIGSYS (a fault or a debugger: returning from a
 * handler would not help), SIGPIPE (Node ignores it; a write error says it), SIGUSR1 (the servers'
 * stats; bin/preflight.cjs keeps Node's debugger off it), and SIGPROF while a profiler runs
 * (V8's profiler needs it).
 */
import { constants } from 'node:os';
import { programName, writeStderr } from './output.js';
import { ExitCode } from './program.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];
const EXIT_CODES: Record<StopSignal, number> = {
  SIGINT: ExitCode.Interrupted,
  SIGTERM: ExitCode.Terminated,
  SIGHUP: ExitCode.HungUp,
};

/** The signals, besides SIGINT/SIGTERM/SIGHUP, whose default action would end the process. */
export const OTHER_ENDING_SIGNALS = [
  'SIGQUIT',
  'SIGUSR2',
  'SIGALRM',
  'SIGVTALRM',
  'SIGPROF',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGPWR',
  'SIGIO',
  'SIGSTKFLT',
] as const satisfies readonly NodeJS.Signals[];

// SIGPROF is the CPU profiler's clock (--cpu-prof, --prof): a handler of ours would take it.
function profiling(): boolean {
  return process.execArgv.some((flag) => /^--(cpu-prof|prof)(\b|=)/.test(flag));
}

/** Every signal this module handles in this process. */
export function handledSignals(): NodeJS.Signals[] {
  const others = OTHER_ENDING_SIGNALS.filter((s) => s !== 'SIGPROF' || !profiling());
  return [...STOP_SIGNALS, ...others];
}

/** 128 + the signal's number: how a program that a signal ended reports it. */
export function signalExitCode(signal: NodeJS.Signals): number {
  if (signal in EXIT_CODES) return EXIT_CODES[signal as StopSignal];
  return 128 + (constants.signals[signal] ?? 0);
}

// SIGINT/SIGTERM/SIGHUP are the usual requests and say nothing here; any other says what came.
function announce(signal: NodeJS.Signals, what: string): void {
  if ((STOP_SIGNALS as readonly string[]).includes(signal)) return;
  writeStderr(`${programName()}: ${signal} received: ${what} (exit ${signalExitCode(signal)})\n`);
}

/** A client's way out on a signal: an AbortSignal, and the exit code the signal asks for. */
export interface SignalAbort {
  /** Aborted on the first signal that would end the program. */
  signal: AbortSignal;
  /** 130 after SIGINT, 143 after SIGTERM, 129 after SIGHUP, 128 + N after another, `undefined` before any. */
  exitCode(): number | undefined;
  /** Removes the handlers. */
  dispose(): void;
}

/**
 * Turns every signal that would end the program into an aborted signal (clients end with
 * 130/143/129, or 128 + N with one line naming the signal); `onSignal` runs too.
 */
export function abortOnSignals(onSignal?: () => void): SignalAbort {
  const controller = new AbortController();
  let code: number | undefined;
  const handle = (signal: NodeJS.Signals) => {
    if (code === undefined) announce(signal, 'stopping as on SIGTERM');
    code ??= signalExitCode(signal);
    controller.abort();
    onSignal?.();
  };
  const signals = handledSignals();
  for (const signal of signals) process.once(signal, handle);
  return {
    signal: controller.signal,
    exitCode: () => code,
    dispose: () => {
      for (const signal of signals) process.off(signal, handle);
    },
  };
}

/** What {@link onSignals} tells its server. */
export interface ServerSignals {
  /**
   * The exit code the first signal asks for once the server has closed: 0 after SIGINT, SIGTERM
   * or SIGHUP (the usual ways to stop a server), 128 + N after another; `undefined` before any.
   */
  exitCode(): number | undefined;
}

/**
 * A server's signals: `first` on the first signal that would end the program, `second` on any
 * later one. The handlers stay until the process exits: a signal that comes after the server
 * has closed, as it exits, must find ours (with nothing left to stop), not the default action.
 */
export function onSignals(first: () => void, second: () => void): ServerSignals {
  let signals = 0;
  let code: number | undefined;
  const handle = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      announce(signal, 'closing as on SIGTERM');
      code = (STOP_SIGNALS as readonly string[]).includes(signal) ? ExitCode.Ok : signalExitCode(signal);
      first();
    } else second();
  };
  for (const signal of handledSignals()) process.on(signal, handle);
  return { exitCode: () => code };
}
