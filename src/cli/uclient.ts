/**
 * `uclient [options] <IP> <port>`: the lecture's UDP client flow: socket(), sendto(), recvfrom(),
 * close(). `--service hello` fetches the hello message; `--service echo` is the textbook's UDP
 * echo client, one datagram per input line.
 */
import { DEFAULT_UDP_RETRIES, DEFAULT_UDP_TIMEOUT_MS } from '../defaults.js';
import { SocketStepsError } from '../errors.js';
import { ECHO_PROMPT, EchoLineSplitter, formatEchoLine, isQuitLine } from '../protocol/echo-client.js';
import { formatHelloLine } from '../protocol/hello.js';
import { openUdpEchoClient, type UdpEchoClient } from '../services/udp-echo.js';
import { fetchUdpHello } from '../services/udp-hello.js';
import type { TraceLanguage } from '../trace/schema.js';
import type { UdpRetry } from '../transport/udp-client.js';
import { VERSION } from '../version.js';
import {
  parseCommandLine,
  parseCount,
  parseSeconds,
  parseTarget,
  SECONDS_HELP,
  TRACE_OPTIONS,
} from './arguments.js';
import { HEX_HELP, HEX_OPTIONS, parseHexOption, startTraceAndHex } from './hex-option.js';
import { answerInfoFlags, CliError, ExitCode, errorLine, runCli } from './program.js';
import { isClassicService, parseService, UDP_SERVICES } from './service-name.js';
import { abortOnSignals } from './signals.js';
import { chooseLanguage, chooseTraceFormat, TRACE_HELP } from './trace-output.js';
import { refuseUnixDatagram, UNIX_DATAGRAM_OPTIONS } from './unix-options.js';

const PROGRAM = 'uclient';
const USAGE = 'Usage : uclient <IP> <port>';
const HELP = `${USAGE}
       uclient [options] <IP> <port>

The lecture's UDP client: socket(), sendto() a request, recvfrom() the reply, close().
<IP> may be an IPv4 or IPv6 address or a host name.

  --service hello   send one request, print "Message from server: " + the reply up to its NUL + " "
  --service echo    the textbook's echo client: read lines ("Insert message(q to quit): " when the
                    input is a terminal), send each as one datagram and print
                    "Message from server: " + the reply; q, Q or end of input quits
  --service time, daytime, qotd, chargen
                    send an empty datagram and print the reply decoded (chargen: checked
                    against the pattern, a wrong byte is an error naming its offset)
  --service discard send each line of input (or --message TEXT) as a datagram; no reply comes

UDP may lose a datagram without telling anyone: with no reply within --timeout, the request is
sent again, --retries times at most, and each retry is said on stderr. An ICMP "port
unreachable" (nothing listens there) ends it at once.

Options:
  --service NAME          what to ask for (see above)                      [default: hello]
  --message TEXT          hello: the request's text (default: an empty datagram);
                          echo, discard: send TEXT once instead of reading lines
  --timeout SECS          how long to wait for each reply                 [default: ${DEFAULT_UDP_TIMEOUT_MS / 1000}]
  --retries N             how many times to send again after a timeout    [default: ${DEFAULT_UDP_RETRIES}]
${TRACE_HELP}${HEX_HELP}  --lang en|ko            language of the trace (default: from LANG, else en)
  -h, --help              show this help
  -V, --version           show the version

${SECONDS_HELP}
Exit status: 0 when done; 1 on a usage or socket error, or when no reply came;
130 on SIGINT, 143 on SIGTERM, 129 on SIGHUP.
`;

/** Runs uclient with the given arguments (without node and the script). */
export function run(argv: readonly string[]): Promise<void> {
  return runCli(PROGRAM, USAGE, () => main(argv));
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(PROGRAM, argv, {
    service: { type: 'string' },
    message: { type: 'string' },
    timeout: { type: 'string' },
    retries: { type: 'string' },
    ...TRACE_OPTIONS,
    ...UNIX_DATAGRAM_OPTIONS,
    ...HEX_OPTIONS,
  });
  const info = answerInfoFlags(values, PROGRAM, HELP, VERSION);
  if (info !== undefined) return info;
  refuseUnixDatagram(PROGRAM, values);
  const { host, port } = parseTarget(positionals, USAGE, 'sendto() error');
  const lang = chooseLanguage(values.lang, PROGRAM);
  const traceFormat = chooseTraceFormat(values, PROGRAM);
  const hex = parseHexOption(values, PROGRAM, { traceFormat });
  const service = parseService(values.service, PROGRAM, UDP_SERVICES);
  const timeout =
    values.timeout === undefined ? undefined : parseSeconds(values.timeout, '--timeout', PROGRAM);
  const retries =
    values.retries === undefined ? undefined : parseCount(values.retries, '--retries', PROGRAM, 0, 1000);
  const message = values.message === undefined ? undefined : Buffer.from(values.message, 'utf8');

  // A read of the terminal is not a socket call the AbortSignal reaches: end it too.
  if (message !== undefined && service !== 'hello' && service !== 'echo' && service !== 'discard') {
    throw new CliError(`${PROGRAM}: --message applies to --service hello, echo or discard, not ${service}`);
  }
  const stop = abortOnSignals(() => {
    if ((service === 'echo' || service === 'discard') && message === undefined) process.stdin.destroy();
  });
  const stopTrace = startTraceAndHex(PROGRAM, lang, traceFormat, hex);
  try {
    // Each retry is said as it goes out: without it, a lost reply looks like a hang for seconds.
    // With --trace the trace says it already.
    const onRetry =
      traceFormat !== undefined
        ? undefined
        : (retry: UdpRetry) => process.stderr.write(retryLine(retry, lang));
    const options = { host, port, timeout, retries, signal: stop.signal, ...(onRetry ? { onRetry } : {}) };
    if (isClassicService(service)) {
      const { runClassicUdpClient } = await import('./classic-client.js');
      const io = { input: process.stdin, output: process.stdout, lang };
      await runClassicUdpClient(service, options, io, message);
    } else if (service === 'hello') {
      const reply = await fetchUdpHello({ ...options, request: message });
      process.stdout.write(formatHelloLine(reply.message));
    } else {
      const client = await openUdpEchoClient(options);
      try {
        if (message !== undefined) process.stdout.write(formatEchoLine(await client.echo(message)));
        else await echoLines(client, process.stdin, process.stdin.isTTY === true);
      } finally {
        await client.close();
      }
    }
    return stop.exitCode() ?? ExitCode.Ok;
  } catch (error) {
    const signalled = stop.exitCode();
    if (signalled !== undefined) return signalled;
    if (error instanceof SocketStepsError) {
      throw new CliError(errorLine(error.call === 'recvfrom' ? 'recvfrom() error' : 'sendto() error', error));
    }
    throw error;
  } finally {
    stopTrace?.();
    stop.dispose();
  }
}

/**
 * The textbook's loop: prompt (on a terminal), read a line, quit on q/Q or end of input, send it,
 * print the reply. Lines go out one at a time: the next is read only once the reply is printed.
 */
async function echoLines(
  client: UdpEchoClient,
  input: NodeJS.ReadableStream,
  prompt: boolean,
): Promise<void> {
  const splitter = new EchoLineSplitter(client.maxPayload);
  const lines = readLines(input, splitter)[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (prompt) process.stdout.write(ECHO_PROMPT);
      const next = await lines.next();
      if (next.done === true || isQuitLine(next.value)) break;
      process.stdout.write(formatEchoLine(await client.echo(next.value)));
    }
  } finally {
    await lines.return(undefined);
  }
}

async function* readLines(input: NodeJS.ReadableStream, splitter: EchoLineSplitter): AsyncGenerator<Buffer> {
  for await (const chunk of input) {
    yield* splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }
  const last = splitter.end();
  if (last !== undefined) yield last;
}

/** The line uclient prints on stderr as a retry goes out. */
export function retryLine({ attempt, attempts, timeout }: UdpRetry, lang: TraceLanguage): string {
  return lang === 'ko'
    ? `${PROGRAM}: ${timeout} ms 안에 응답이 없어 다시 보냄 (${attempts}번 중 ${attempt}번째 시도)\n`
    : `${PROGRAM}: no reply within ${timeout} ms; sending again (attempt ${attempt} of ${attempts})\n`;
}
