/**
 * `hbench [options] <IP> <port>`: a bounded load tool for hello (and echo, greet, discard, qotd) servers.
 */

import { lookup } from 'node:dns/promises';
import { type LoadErrorKind, type LoadResult, MAX_LOAD_THREADS, runLoad, scripts } from '../bench/load.js';
import type { ExchangeStep } from '../bench/load-plan.js';
import { DEFAULT_HELLO_MESSAGE, DEFAULT_LOAD_DURATION_MS, DEFAULT_LOAD_TIMEOUT_MS } from '../defaults.js';
import { describeSystemError, SocketStepsError } from '../errors.js';
import { encodeHello } from '../protocol/hello.js';
import { DEFAULT_QUOTE } from '../protocol/qotd.js';
import { formatAddress, ipVersion } from '../validate.js';
import { VERSION } from '../version.js';
import {
  INFO_OPTIONS,
  parseCommandLine,
  parseCount,
  parseSeconds,
  parseTarget,
  SECONDS_HELP,
} from './arguments.js';
import { answerInfoFlags, CliError, ExitCode, runCli } from './program.js';
import { parseService } from './service-name.js';
import { abortOnSignals } from './signals.js';
import { parseTlsBenchValues, TLS_BENCH_HELP, TLS_BENCH_OPTIONS } from './tls-options.js';
import { parseUnixClient, UNIX_CLIENT_HELP, UNIX_CLIENT_OPTIONS } from './unix-options.js';

const PROGRAM = 'hbench';
const USAGE = 'Usage : hbench <IP> <port>';
// In the order hbench's help gives them.
const LOAD_SERVICES = ['hello', 'echo', 'greet', 'discard', 'qotd'] as const;
// A benchmark opens thousands of connections a second: a dump of their bytes would measure the
// terminal, not the server, and hold the load back where the dump cannot keep up.
const HBENCH_HEX_REFUSAL = `${PROGRAM}: --hex is not for a benchmark (dumping every connection's bytes would measure the terminal, not the server): run hclient --hex for one connection`;
const HELP = `${USAGE}
       hbench [options] <IP> <port>
       hbench [options] --unix PATH

Opens connections against a hello server (ours, the seed's C server, anything that speaks the
protocol), checks every payload byte for byte, and reports connections per second, errors by
kind and connect-to-close latency percentiles. It always stops by itself. Also against echo,
greet, discard (sends the message, half-closes, expects nothing back and the server's close)
and qotd (expects the quote, one quote: the server's --message or its default).

Options:
  -c, --concurrency N     connections kept in flight                        [default: 16]
  -j, --threads N         event loops (worker threads) sharing them         [default: 1]
  -n, --requests N        stop after N connections
  -d, --duration SECS     stop starting connections after SECS (default ${DEFAULT_LOAD_DURATION_MS / 1000} if -n is not given)
  --timeout SECS          bound on each whole exchange                      [default: 5]
  --service NAME          hello, echo, greet, discard or qotd              [default: hello]
  --message TEXT          hello: the text expected (and a NUL); echo, discard: the bytes
                          sent; qotd: the quote expected
                          [default: ${DEFAULT_HELLO_MESSAGE}; qotd: the server's default quote]
  --no-nul                hello: expect no NUL after the text
${TLS_BENCH_HELP}  --json                  print the results as one JSON object on stdout
${UNIX_CLIENT_HELP}  --hex                   refused: see hclient --hex (docs/hexdump.md)
  -h, --help              show this help
  -V, --version           show the version

${SECONDS_HELP}
A progress bar is drawn on stderr when it is a terminal. Exit status: 0 when every exchange was
correct, 1 on a usage error or when any exchange failed.
`;

/** Runs hbench with the given arguments (without node and the script). */
export function run(argv: readonly string[]): Promise<void> {
  return runCli(PROGRAM, USAGE, () => main(argv));
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(PROGRAM, argv, {
    concurrency: { type: 'string', short: 'c' },
    threads: { type: 'string', short: 'j' },
    requests: { type: 'string', short: 'n' },
    duration: { type: 'string', short: 'd' },
    timeout: { type: 'string' },
    service: { type: 'string' },
    message: { type: 'string' },
    'no-nul': { type: 'boolean' },
    json: { type: 'boolean' },
    hex: { type: 'boolean' },
    ...TLS_BENCH_OPTIONS,
    ...INFO_OPTIONS,
    ...UNIX_CLIENT_OPTIONS,
  });
  const info = answerInfoFlags(values, PROGRAM, HELP, VERSION);
  if (info !== undefined) return info;
  if (values.hex) throw new CliError(HBENCH_HEX_REFUSAL);
  const unix = parseUnixClient(PROGRAM, values, positionals);
  const { host, port } =
    unix === undefined ? parseTarget(positionals, USAGE, 'connect() error!') : { host: '', port: 0 };
  const concurrency =
    values.concurrency === undefined
      ? 16
      : parseCount(values.concurrency, '--concurrency', PROGRAM, 1, 100_000);
  const threads =
    values.threads === undefined ? 1 : parseCount(values.threads, '--threads', PROGRAM, 1, MAX_LOAD_THREADS);
  const requests =
    values.requests === undefined ? undefined : parseCount(values.requests, '--requests', PROGRAM);
  const duration =
    values.duration === undefined
      ? requests === undefined
        ? DEFAULT_LOAD_DURATION_MS
        : undefined
      : parseSeconds(values.duration, '--duration', PROGRAM);
  const timeout =
    values.timeout === undefined
      ? DEFAULT_LOAD_TIMEOUT_MS
      : parseSeconds(values.timeout, '--timeout', PROGRAM);
  const service = parseService(values.service, PROGRAM, LOAD_SERVICES);
  if (values['no-nul'] && service !== 'hello') {
    throw new CliError(`${PROGRAM}: --no-nul applies to --service hello, not ${service}`);
  }
  if (values.message !== undefined && service === 'greet') {
    throw new CliError(`${PROGRAM}: --message applies to --service hello, echo, discard or qotd, not greet`);
  }
  const tls = parseTlsBenchValues(PROGRAM, values, unix === undefined ? host : undefined);
  const message = values.message ?? DEFAULT_HELLO_MESSAGE;
  const script = loadScript(service, message, values.message, !values['no-nul']);

  // A host name is resolved once, before the load: a name that does not resolve is one clear
  // error (as hclient says it), not thousands of failed connections of kind "other".
  let address = host;
  if (unix === undefined && ipVersion(host) === 0) {
    try {
      address = (await lookup(host)).address;
    } catch (error) {
      throw new CliError(`${PROGRAM}: cannot resolve '${host}': ${describeSystemError(error)}`);
    }
  }

  const bar = process.stderr.isTTY && !values.json ? progressBar(requests, duration) : undefined;
  const stop = abortOnSignals();
  let result: LoadResult;
  try {
    result = await runLoad({
      ...(unix === undefined ? { host: address, port } : { path: unix.path }),
      concurrency,
      threads,
      requests,
      duration,
      timeout,
      script,
      ...(tls === undefined ? {} : { tls }),
      onProgress: bar,
      signal: stop.signal,
    });
  } finally {
    stop.dispose();
    if (bar !== undefined) process.stderr.write('\r\u001b[2K');
  }
  const target = unix === undefined ? formatAddress(host, port) : unix.display;
  if (values.json) process.stdout.write(`${JSON.stringify(toJson(result, service, target))}\n`);
  else process.stdout.write(report(result, service, target));
  const signalled = stop.exitCode();
  if (signalled !== undefined) return signalled;
  return result.failed === 0 && result.ok > 0 ? ExitCode.Ok : ExitCode.Failure;
}

const ms = (micros: number) => (micros / 1000).toFixed(micros < 10_000 ? 2 : 1);

function toJson(result: LoadResult, service: string, target: string) {
  const { latency } = result;
  return {
    target,
    service,
    concurrency: result.concurrency,
    threads: result.threads,
    started: result.started,
    ok: result.ok,
    failed: result.failed,
    interrupted: result.interrupted,
    inFlight: result.inFlight,
    noAnswer: result.noAnswer,
    errors: result.errors,
    seconds: Number((result.elapsedMs / 1000).toFixed(3)),
    connectionsPerSecond: Math.round(result.perSecond),
    latencyMs:
      latency.count === 0
        ? null
        : {
            p50: Number(ms(latency.percentile(50))),
            p90: Number(ms(latency.percentile(90))),
            p99: Number(ms(latency.percentile(99))),
            max: Number(ms(latency.max)),
          },
    ...(result.tls === undefined
      ? {}
      : {
          tls: {
            handshakes: result.tls.handshakes,
            resumed: result.tls.resumed,
            handshakesPerSecond: Math.round(result.tls.perSecond),
            handshakeLatencyMs:
              result.tls.latency.count === 0
                ? null
                : {
                    p50: Number(ms(result.tls.latency.percentile(50))),
                    p90: Number(ms(result.tls.latency.percentile(90))),
                    p99: Number(ms(result.tls.latency.percentile(99))),
                    max: Number(ms(result.tls.latency.max)),
                  },
          },
        }),
  };
}

function report(result: LoadResult, service: string, target: string): string {
  const { latency } = result;
  const kinds = Object.entries(result.errors) as Array<[LoadErrorKind, number]>;
  const errors = kinds.length === 0 ? 'none' : kinds.map(([kind, n]) => `${kind} ${n}`).join(', ');
  const { noAnswer } = result;
  const silent = noAnswer.timedOut + noAnswer.inFlight;
  const silentParts = [
    ...(noAnswer.timedOut > 0 ? [`${noAnswer.timedOut} timed out`] : []),
    ...(noAnswer.inFlight > 0 ? [`${noAnswer.inFlight} in flight when stopped`] : []),
  ];
  return [
    `${PROGRAM}: ${target} ${service}, concurrency ${result.concurrency}${result.threads > 1 ? `, ${result.threads} threads` : ''}, ${(result.elapsedMs / 1000).toFixed(2)} s${result.interrupted ? ' (interrupted)' : ''}`,
    `  connections  ${result.ok} ok, ${result.failed} failed${result.interrupted ? `, ${result.inFlight} in flight when stopped` : ''} (${result.started} started)`,
    `  rate         ${Math.round(result.perSecond)} connections/s`,
    latency.count === 0
      ? '  latency      n/a (no exchange completed)'
      : `  latency      p50 ${ms(latency.percentile(50))} ms, p90 ${ms(latency.percentile(90))} ms, p99 ${ms(latency.percentile(99))} ms, max ${ms(latency.max)} ms`,
    ...(result.tls === undefined ? [] : tlsLines(result.tls)),
    `  errors       ${errors}`,
    // Connections the server left without a byte: a server that accepts and never answers.
    ...(silent === 0
      ? []
      : [`  no answer    ${silent} got no byte from the server (${silentParts.join(', ')})`]),
    '',
  ].join('\n');
}

// The handshakes on their own: how many, how many resumed, their rate and their latency.
function tlsLines(tls: NonNullable<LoadResult['tls']>): string[] {
  const { latency } = tls;
  return [
    `  tls          ${tls.handshakes} handshakes (${tls.resumed} resumed), ${Math.round(tls.perSecond)} handshakes/s`,
    latency.count === 0
      ? '  handshake    n/a (no handshake completed)'
      : `  handshake    p50 ${ms(latency.percentile(50))} ms, p90 ${ms(latency.percentile(90))} ms, p99 ${ms(latency.percentile(99))} ms, max ${ms(latency.max)} ms`,
  ];
}

/** A one-line progress bar on stderr (a terminal). */
function progressBar(requests: number | undefined, duration: number | undefined) {
  const width = 30;
  return (p: { started: number; ok: number; failed: number; elapsedMs: number }) => {
    const fraction = Math.min(
      1,
      Math.max(
        requests === undefined ? 0 : p.started / requests,
        duration === undefined ? 0 : p.elapsedMs / duration,
      ),
    );
    const filled = Math.round(fraction * width);
    const rate = p.elapsedMs > 0 ? Math.round((p.ok / p.elapsedMs) * 1000) : 0;
    process.stderr.write(
      `\r\u001b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.ok} ok ${p.failed} failed ${rate}/s`,
    );
  };
}

function loadScript(
  service: (typeof LOAD_SERVICES)[number],
  message: string,
  given: string | undefined,
  nul: boolean,
): ExchangeStep[] {
  switch (service) {
    case 'hello':
      return scripts.hello(encodeHello(message, { nul }));
    case 'echo':
      return scripts.echo(Buffer.from(message));
    case 'discard':
      return scripts.discard(Buffer.from(message));
    case 'greet':
      return scripts.greet();
    case 'qotd':
      try {
        return scripts.qotd(given ?? DEFAULT_QUOTE);
      } catch (error) {
        if (error instanceof SocketStepsError) throw new CliError(`${PROGRAM}: ${error.message}`);
        throw error;
      }
  }
}
