/**
 * A load run on several event loops: one worker thread per loop, each running its share of the
 * connections with {@link runLoop}, started together and merged into one result. The worker
 * threads load this same module (its own file, or the CLI bundle that holds it), which serves
 * them when it sees their mark in `workerData`.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { LatencyHistogram, type LatencyHistogramData } from './histogram.js';
import { runLoop } from './load-loop.js';
import {
  type ExchangeStep,
  type LoadErrorKind,
  type LoadHooks,
  type LoadPlan,
  type LoadResult,
  type LoadTlsResult,
  tlsResultOf,
} from './load-plan.js';

const WORKER_MARK = 'socket-steps load thread';

/**
 * What a thread runs: an import of this module, as code rather than as the file, so that the
 * thread inherits the parent's Node.js options as they are. A thread given a file fails when the
 * parent runs code from its command line with `--input-type`; and options given to a thread
 * explicitly are checked again, and refused for those that only a process takes
 * (`--max-old-space-size`, `--stack-trace-limit`, `--title`, ...). `import()` reads as the same
 * expression in CommonJS and in a module, whichever `--input-type` says.
 */
const THREAD_MAIN = `import(${JSON.stringify(import.meta.url)})`;

/** From a thread to the main thread. */
type FromThread =
  | { type: 'ready' }
  | { type: 'progress'; started: number; ok: number; failed: number }
  | { type: 'result'; result: ThreadResult };

/** From the main thread to a thread. */
type ToThread = { type: 'go' } | { type: 'abort' };

/** A thread's result as it crosses `postMessage`. */
type ThreadResult = Omit<LoadResult, 'latency' | 'tls'> & {
  latency: LatencyHistogramData;
  tls?: Omit<LoadTlsResult, 'latency'> & { latency: LatencyHistogramData };
};

interface ThreadData {
  mark: typeof WORKER_MARK;
  plan: LoadPlan;
}

/** Each of `parts` shares of `total`, as equal as whole numbers allow (Infinity stays Infinity). */
export function share(total: number, parts: number): number[] {
  return shareByWeight(
    total,
    Array.from({ length: parts }, () => 1),
  );
}

/**
 * `total` in whole shares in proportion to `weights` (largest remainders get the units left
 * over; Infinity stays Infinity). A thread's requests follow its connections: with equal
 * requests, a thread with fewer connections would still be running alone, at its lower
 * concurrency, after the others finished, and the run's rate would fall with it.
 */
export function shareByWeight(total: number, weights: readonly number[]): number[] {
  if (total === Number.POSITIVE_INFINITY) return weights.map(() => total);
  const sum = weights.reduce((a, b) => a + b, 0);
  // total * w / sum without a product past 2^53: total = q * sum + r, and r * w < sum * w.
  const q = Math.floor(total / sum);
  const r = total % sum;
  const shares = weights.map((w) => q * w + Math.floor((r * w) / sum));
  const order = weights
    .map((w, i) => ({ i, fraction: ((r * w) % sum) / sum }))
    .sort((a, b) => b.fraction - a.fraction || a.i - b.i);
  let left = total - shares.reduce((a, b) => a + b, 0);
  for (const { i } of order) {
    if (left === 0) break;
    shares[i] = (shares[i] as number) + 1;
    left--;
  }
  return shares;
}

/**
 * Runs `plan` on `threads` worker threads (at most `plan.concurrency`). They start loading only
 * once every thread is up, so that start-up is not counted; the run's elapsed time is the
 * longest of theirs. Rejects if a thread fails; the others are then stopped. An abort before
 * every thread is up stops them at once, and the run resolves with nothing done.
 */
export function runOnThreads(plan: LoadPlan, threads: number, hooks: LoadHooks): Promise<LoadResult> {
  const concurrencies = share(plan.concurrency, threads);
  const requests = shareByWeight(plan.requests, concurrencies);
  return new Promise((resolve, reject) => {
    const workers: Worker[] = [];
    const progress = Array.from({ length: threads }, () => ({ started: 0, ok: 0, failed: 0 }));
    // Each thread's result, by thread.
    const results: Array<ThreadResult | undefined> = Array.from({ length: threads }, () => undefined);
    let reported = 0;
    let ready = 0;
    let begin = 0;
    let going = false;
    let settled = false;
    let ticker: NodeJS.Timeout | undefined;

    const post = (message: ToThread) => {
      for (const worker of workers) worker.postMessage(message);
    };
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      cleanup();
      for (const worker of workers) void worker.terminate();
      reject(error);
    };
    const onAbort = () => {
      if (going) {
        post({ type: 'abort' });
        return;
      }
      // Still starting: nothing was loaded yet, so there is nothing to wait for.
      settled = true;
      cleanup();
      for (const worker of workers) void worker.terminate();
      resolve({ ...merge(plan, [], threads), interrupted: true });
    };
    const cleanup = () => {
      clearInterval(ticker);
      hooks.signal?.removeEventListener('abort', onAbort);
    };

    if (hooks.signal?.aborted) {
      resolve({ ...merge(plan, [], threads), interrupted: true });
      return;
    }
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    for (let i = 0; i < threads; i++) {
      const data: ThreadData = {
        mark: WORKER_MARK,
        plan: { ...plan, concurrency: concurrencies[i] as number, requests: requests[i] as number },
      };
      const worker = new Worker(THREAD_MAIN, { eval: true, workerData: data });
      workers.push(worker);
      worker.on('message', (message: FromThread) => {
        if (message.type === 'ready') {
          if (++ready < threads || settled) return;
          begin = performance.now();
          going = true;
          post({ type: 'go' });
          if (hooks.onProgress !== undefined) {
            const report = hooks.onProgress;
            ticker = setInterval(
              () => report(sum(progress, performance.now() - begin)),
              plan.progressInterval,
            );
          }
        } else if (message.type === 'progress') {
          progress[i] = message;
        } else {
          results[i] = message.result;
          if (++reported < threads || settled) return;
          settled = true;
          cleanup();
          resolve(merge(plan, results as ThreadResult[], threads));
        }
      });
      worker.on('error', (error: Error) => fail(error));
      worker.on('exit', (code) => {
        if (results[i] === undefined) {
          fail(new Error(`load thread ${i + 1} of ${threads} exited (code ${code}) before its result`));
        }
      });
    }
  });
}

function sum(progress: Array<{ started: number; ok: number; failed: number }>, elapsedMs: number) {
  let started = 0;
  let ok = 0;
  let failed = 0;
  for (const p of progress) {
    started += p.started;
    ok += p.ok;
    failed += p.failed;
  }
  return { started, ok, failed, elapsedMs };
}

function merge(plan: LoadPlan, results: readonly ThreadResult[], threads: number): LoadResult {
  const latency = new LatencyHistogram();
  const errors: Partial<Record<LoadErrorKind, number>> = {};
  let started = 0;
  let ok = 0;
  let failed = 0;
  let elapsedMs = 0.001;
  let interrupted = false;
  let inFlight = 0;
  const noAnswer = { timedOut: 0, inFlight: 0 };
  const handshakeLatency = new LatencyHistogram();
  let handshakes = 0;
  let resumed = 0;
  for (const result of results) {
    latency.merge(LatencyHistogram.fromData(result.latency));
    if (result.tls !== undefined) {
      handshakeLatency.merge(LatencyHistogram.fromData(result.tls.latency));
      handshakes += result.tls.handshakes;
      resumed += result.tls.resumed;
    }
    started += result.started;
    interrupted ||= result.interrupted;
    inFlight += result.inFlight;
    noAnswer.timedOut += result.noAnswer.timedOut;
    noAnswer.inFlight += result.noAnswer.inFlight;
    ok += result.ok;
    failed += result.failed;
    elapsedMs = Math.max(elapsedMs, result.elapsedMs);
    for (const [kind, n] of Object.entries(result.errors) as Array<[LoadErrorKind, number]>) {
      errors[kind] = (errors[kind] ?? 0) + n;
    }
  }
  return {
    target: plan.target,
    concurrency: plan.concurrency,
    threads,
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
    ...tlsResultOf(plan.tls, handshakes, resumed, elapsedMs, handshakeLatency),
  };
}

/** In a load thread: wait for `go`, run this thread's share, post the result. */
function serveThread(data: ThreadData): void {
  const port = parentPort;
  if (port === null) return;
  // Buffers arrive as plain Uint8Arrays.
  const bytes = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  const script: ExchangeStep[] = data.plan.script.map((step) =>
    'send' in step ? { send: bytes(step.send) } : 'expect' in step ? { expect: bytes(step.expect) } : step,
  );
  const plan: LoadPlan = { ...data.plan, script };
  const abort = new AbortController();
  const send = (message: FromThread) => port.postMessage(message);
  port.on('message', (message: ToThread) => {
    if (message.type === 'abort') {
      abort.abort();
      return;
    }
    void runLoop(plan, {
      signal: abort.signal,
      onProgress: ({ started, ok, failed }) => send({ type: 'progress', started, ok, failed }),
    }).then(({ tls, ...result }) => {
      const sent: ThreadResult = { ...result, latency: result.latency.toData() };
      if (tls !== undefined) sent.tls = { ...tls, latency: tls.latency.toData() };
      send({ type: 'result', result: sent });
      port.close();
    });
  });
  send({ type: 'ready' });
}

if (!isMainThread && (workerData as Partial<ThreadData> | null)?.mark === WORKER_MARK) {
  serveThread(workerData as ThreadData);
}
