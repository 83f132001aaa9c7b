/**
 * One event loop of a load run: keeps `plan.concurrency` connections in flight on this thread,
 * each running the script, and resolves with what they did.
 */
import { connect, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { systemCodeOf } from '../errors.js';
import { defaultServername } from '../transport/tls-client.js';
import { LatencyHistogram } from './histogram.js';
import {
  type LoadErrorKind,
  type LoadHooks,
  type LoadPlan,
  type LoadResult,
  tlsResultOf,
} from './load-plan.js';

interface Flight {
  socket: Socket;
  started: number;
  step: number;
  /** Bytes received for the current expect step. */
  received: Buffer[];
  receivedLength: number;
  /** Whether any byte came from the server. */
  answered: boolean;
  done: boolean;
  /** TLS: the handshake is done. */
  secure: boolean;
}

/** Runs `plan` on this thread's event loop. */
export function runLoop(plan: LoadPlan, { onProgress, signal }: LoadHooks): Promise<LoadResult> {
  const { host, port, path, concurrency, requests, duration, timeout, progressInterval, script, tls } = plan;
  // TLS: every connection verifies (unless insecure) and may offer the last session's ticket.
  const servername = tls?.servername ?? defaultServername(path === undefined ? host : undefined);
  const tlsOptions =
    tls === undefined
      ? undefined
      : {
          ...(path === undefined ? { host, port } : { path }),
          ...(servername === undefined ? {} : { servername }),
          ...(tls.ca === undefined ? {} : { ca: [...tls.ca] }),
          rejectUnauthorized: tls.insecure !== true,
        };
  let session: Buffer | undefined;
  const handshakeLatency = new LatencyHistogram();
  let handshakes = 0;
  let resumed = 0;
  return new Promise((resolve) => {
    const latency = new LatencyHistogram();
    const errors: Partial<Record<LoadErrorKind, number>> = {};
    const flights = new Set<Flight>();
    const begin = performance.now();
    let lastCompletion = begin;
    let started = 0;
    let ok = 0;
    let failed = 0;
    let stopping = false;
    let interrupted = false;
    let inFlight = 0;
    const noAnswer = { timedOut: 0, inFlight: 0 };

    const canStart = () =>
      !stopping && started < requests && (duration === undefined || performance.now() - begin < duration);

    const finishFlight = (flight: Flight, kind: LoadErrorKind | undefined) => {
      if (flight.done) return;
      flight.done = true;
      flights.delete(flight);
      flight.socket.destroy();
      const now = performance.now();
      if (kind === undefined) {
        ok++;
        latency.record((now - flight.started) * 1000);
      } else {
        failed++;
        errors[kind] = (errors[kind] ?? 0) + 1;
        if (kind === 'timeout' && !flight.answered) noAnswer.timedOut++;
      }
      lastCompletion = now;
      if (canStart()) start();
      else if (flights.size === 0) end();
    };

    // Runs the steps that need no input (send, shutdown) up to the next expect.
    const advance = (flight: Flight) => {
      for (;;) {
        const step = script[flight.step];
        if (step === undefined || 'expect' in step) return;
        if ('send' in step) flight.socket.write(step.send);
        else flight.socket.end();
        flight.step++;
      }
    };

    const onData = (flight: Flight, chunk: Buffer) => {
      flight.answered = true;
      // The handshake alone: what the server sends after it (a hello) is not the script's.
      if (script.length === 0 && tls !== undefined) return;
      let data = chunk;
      while (data.length > 0) {
        const step = script[flight.step];
        if (step === undefined || !('expect' in step)) {
          finishFlight(flight, 'bad-payload'); // bytes the script does not expect
          return;
        }
        const need = step.expect.length - flight.receivedLength;
        const part = data.subarray(0, need);
        flight.received.push(part);
        flight.receivedLength += part.length;
        data = data.subarray(part.length);
        if (flight.receivedLength === step.expect.length) {
          const got =
            flight.received.length === 1 ? (flight.received[0] as Buffer) : Buffer.concat(flight.received);
          if (!got.equals(step.expect)) {
            finishFlight(flight, 'bad-payload');
            return;
          }
          flight.received = [];
          flight.receivedLength = 0;
          flight.step++;
          advance(flight);
        }
      }
    };

    const start = () => {
      started++;
      const socket: Socket =
        tlsOptions === undefined
          ? path === undefined
            ? connect({ host, port })
            : connect({ path })
          : connectTls(tls?.resume && session !== undefined ? { ...tlsOptions, session } : tlsOptions);
      const flight: Flight = {
        socket,
        started: performance.now(),
        step: 0,
        received: [],
        receivedLength: 0,
        answered: false,
        done: false,
        secure: false,
      };
      flights.add(flight);
      if (tlsOptions === undefined) socket.on('connect', () => advance(flight));
      else {
        const secure = socket as TLSSocket;
        secure.on('secureConnect', () => {
          flight.secure = true;
          handshakes++;
          handshakeLatency.record((performance.now() - flight.started) * 1000);
          if (secure.isSessionReused()) resumed++;
          // An empty script over TLS: the exchange is the handshake (handshakes per second). It
          // ends as a TLS connection should, close_notify and FIN, and is done at the server's end:
          // a reset instead would lose the client's Finished at the server, and TLS 1.3 sends
          // the ticket to resume with only after the handshake.
          if (script.length > 0) advance(flight);
          else secure.end();
        });
        if (tls?.resume) secure.on('session', (ticket: Buffer) => (session = ticket));
      }
      socket.on('data', (chunk: Buffer) => onData(flight, chunk));
      socket.on('end', () => finishFlight(flight, flight.step >= script.length ? undefined : 'closed-early'));
      socket.on('error', (error: Error) =>
        finishFlight(flight, tlsOptions !== undefined && !flight.secure ? tlsKindOf(error) : kindOf(error)),
      );
    };

    // One sweep for all timeouts instead of a timer per connection.
    const sweep = setInterval(
      () => {
        const now = performance.now();
        for (const flight of flights) if (now - flight.started > timeout) finishFlight(flight, 'timeout');
        onProgress?.({ started, ok, failed, elapsedMs: now - begin });
        if (!canStart() && flights.size === 0) end();
      },
      Math.min(progressInterval, timeout),
    );

    // An early stop: what was in flight is dropped but reported (how many, and how many of them
    // had no answer yet), and the elapsed time runs to now: a silent server must not look idle.
    const onAbort = () => {
      stopping = true;
      interrupted = true;
      for (const flight of [...flights]) {
        flight.done = true;
        flight.socket.destroy();
        flights.delete(flight);
        inFlight++;
        if (!flight.answered) noAnswer.inFlight++;
      }
      end();
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    let ended = false;
    function end() {
      if (ended) return;
      ended = true;
      clearInterval(sweep);
      signal?.removeEventListener('abort', onAbort);
      const elapsedMs = Math.max((interrupted ? performance.now() : lastCompletion) - begin, 0.001);
      resolve({
        target: plan.target,
        concurrency,
        threads: 1,
        started,
        interrupted,
        inFlight,
        noAnswer,
        ok,
        failed,
        errors,
        elapsedMs,
        perSecond: (ok / elapsedMs) * 1000,
        latency,
        ...tlsResultOf(tls, handshakes, resumed, elapsedMs, handshakeLatency),
      });
    }

    if (signal?.aborted) {
      onAbort();
      return;
    }
    for (let i = 0; i < concurrency && canStart(); i++) start();
  });
}

function kindOf(error: Error): LoadErrorKind {
  switch (systemCodeOf(error)) {
    case 'ECONNREFUSED':
    // A Unix socket whose accept queue is full refuses at once (EAGAIN) where TCP would retry
    // its SYN; a path with no socket at all is ENOENT.
    case 'EAGAIN':
    case 'ENOENT':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'EADDRNOTAVAIL':
      return 'address-unavailable';
    default:
      return 'other';
  }
}

// Before the handshake is done, a failure is the handshake's (a certificate refused, a peer that
// is not TLS), unless the connection itself failed.
function tlsKindOf(error: Error): LoadErrorKind {
  const kind = kindOf(error);
  return kind === 'other' ? 'tls' : kind;
}
