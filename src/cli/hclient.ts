/**
 * `hclient [options] <IP> <port>`: the seed's hello_client.c.
 */
import { DEFAULT_CLIENT_TIMEOUT_MS, DEFAULT_HELLO_MAX_BYTES } from '../defaults.js';
import { AbortError, ReadTimeoutError, SocketStepsError, TlsHandshakeError } from '../errors.js';
import { formatHelloLine } from '../protocol/hello.js';
import { fetchHello } from '../services/hello.js';
import type { TraceLanguage, TraceTls } from '../trace/schema.js';
import { streamTarget } from '../transport/tcp-client.js';
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
import { writeStderr } from './output.js';
import { answerInfoFlags, CliError, ExitCode, errorLine, runCli } from './program.js';
import { isClassicService } from './service-name.js';
import { abortOnSignals } from './signals.js';
import { parseTalkClientValues, TALK_CLIENT_HELP, TALK_CLIENT_OPTIONS } from './talk-client-options.js';
import {
  parseTlsClientValues,
  TLS_CLIENT_HELP,
  TLS_CLIENT_OPTIONS,
  verificationHint,
} from './tls-options.js';
import { chooseLanguage, chooseTraceFormat, TRACE_HELP } from './trace-output.js';
import { parseUnixClient, UNIX_CLIENT_HELP, UNIX_CLIENT_OPTIONS } from './unix-options.js';

const PROGRAM = 'hclient';
const USAGE = 'Usage : hclient <IP> <port>';
const HELP = `${USAGE}
       hclient [options] <IP> <port>
       hclient [options] --unix PATH

The lecture's TCP hello client: socket(), connect(), read the server's message, close().
Prints "Message from server: " + the message up to its NUL byte + " ", like hello_client.c.
<IP> may be an IPv4 or IPv6 address or a host name.
With --service greet it holds the lecture's Bob/Jane dialogue and prints each line with who said it;
with --service echo it is the textbook's echo client: each line of input is sent and printed as
"Message from server: <line>" once all of it has come back; q, Q or end of input quits.
The classic test services: time and daytime print the server's time (time: ISO 8601 in UTC and
the raw seconds since 1900), qotd the quote, chargen reads --bytes N bytes and checks each one
against the pattern (a wrong byte is an error naming its offset), discard sends the input and
prints how many bytes went.

Options:
  --timeout SECS          bound on connect() and on each wait for data    [default: ${DEFAULT_CLIENT_TIMEOUT_MS / 1000}]
  --max-bytes N           most bytes to read while looking for the NUL    [default: ${DEFAULT_HELLO_MAX_BYTES}]
${TALK_CLIENT_HELP}${TLS_CLIENT_HELP}${UNIX_CLIENT_HELP}${TRACE_HELP}${HEX_HELP}  --lang en|ko            language of the trace (default: from LANG, else en)
  -h, --help              show this help
  -V, --version           show the version

${SECONDS_HELP}
Exit status: 0 when the message was printed (greet: the dialogue held; echo: input done);
1 on a usage, connect or read error; 130 on SIGINT, 143 on SIGTERM, 129 on SIGHUP.
`;

/** Runs hclient with the given arguments (without node and the script). */
export function run(argv: readonly string[]): Promise<void> {
  return runCli(PROGRAM, USAGE, () => main(argv));
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(PROGRAM, argv, {
    timeout: { type: 'string' },
    'max-bytes': { type: 'string' },
    ...TRACE_OPTIONS,
    ...HEX_OPTIONS,
    ...TALK_CLIENT_OPTIONS,
    ...TLS_CLIENT_OPTIONS,
    ...UNIX_CLIENT_OPTIONS,
  });
  const info = answerInfoFlags(values, PROGRAM, HELP, VERSION);
  if (info !== undefined) return info;
  const unix = parseUnixClient(PROGRAM, values, positionals);
  const where =
    unix === undefined ? parseTarget(positionals, USAGE, 'connect() error!') : { path: unix.path };
  const lang = chooseLanguage(values.lang, PROGRAM);
  const traceFormat = chooseTraceFormat(values, PROGRAM);
  const hex = parseHexOption(values, PROGRAM, { traceFormat });
  const talk = parseTalkClientValues(PROGRAM, values);
  const tlsValues = parseTlsClientValues(PROGRAM, values);
  const tls = tlsValues === undefined ? undefined : { ...tlsValues, onHandshake: reportInsecure };
  const timeout =
    values.timeout === undefined ? undefined : parseSeconds(values.timeout, '--timeout', PROGRAM);
  const maxBytes =
    values['max-bytes'] === undefined ? undefined : parseCount(values['max-bytes'], '--max-bytes', PROGRAM);

  // A bad greet name is a usage error (runCli prints "hclient: invalid name ..."), found before
  // connecting; the greet protocol module is loaded only on that path.
  const name =
    talk.service === 'greet' ? (await import('./talk-client.js')).validateName(talk.name) : talk.name;
  const stop = abortOnSignals();
  const stopTrace = startTraceAndHex(PROGRAM, lang, traceFormat, hex);
  try {
    if (isClassicService(talk.service)) {
      const { runClassicTcpClient } = await import('./classic-client.js');
      const target = { ...where, timeout, signal: stop.signal, tls };
      await runClassicTcpClient(
        talk.service,
        target,
        { input: process.stdin, output: process.stdout, lang },
        talk.bytes,
      );
      return ExitCode.Ok;
    }
    if (talk.service !== 'hello') {
      // Loaded only when asked for: the hello path is what start-up time is measured on.
      const { runEchoClient, runGreetClient } = await import('./talk-client.js');
      const target = { ...where, timeout, signal: stop.signal, tls };
      const io = { input: process.stdin, output: process.stdout };
      if (talk.service === 'greet') await runGreetClient(target, name, io);
      else await runEchoClient(target, io);
      return ExitCode.Ok;
    }
    const reply = await fetchHello({ ...where, timeout, maxBytes, signal: stop.signal, tls });
    process.stdout.write(formatHelloLine(reply.message));
    if (reply.end === 'limit') {
      // Printed, but not whole: say so (the exit status stays 0, the line was printed).
      process.stderr.write(
        `${PROGRAM}: the message was cut at --max-bytes (${reply.message.length} bytes): no NUL and no end of stream by then\n`,
      );
    }
    return ExitCode.Ok;
  } catch (error) {
    const signalled = stop.exitCode();
    if (error instanceof AbortError && signalled !== undefined) return signalled;
    if (error instanceof ReadTimeoutError && talk.service === 'hello') {
      // What did arrive is printed first, as the C client prints what read() gave it.
      if (error.received.length > 0) process.stdout.write(formatHelloLine(error.received));
      else throw new CliError(`${errorLine('read() error!', error)}\n${speakFirstHint(lang)}`);
    }
    if (error instanceof TlsHandshakeError) {
      throw new CliError(
        errorLine(
          'connect() error!',
          `TLS handshake with ${streamTarget(where).target} failed: ${error.message}${verificationHint(error.reason)}`,
        ),
      );
    }
    if (error instanceof SocketStepsError) {
      const prefix =
        error.call === 'read'
          ? 'read() error!'
          : error.call === 'write'
            ? 'write() error!'
            : 'connect() error!';
      throw new CliError(errorLine(prefix, error));
    }
    throw error;
  } finally {
    stopTrace?.();
    stop.dispose();
  }
}

/** The hint after "sent nothing": a server that waits for the client to speak first. */
export function speakFirstHint(lang: TraceLanguage): string {
  return lang === 'ko'
    ? `${PROGRAM}: greet나 echo 서버는 클라이언트가 먼저 말하기를 기다립니다: --service greet 또는 --service echo를 쓰십시오 (TLS 서버라면 --tls)`
    : `${PROGRAM}: a greet or echo server waits for the client to speak first: try --service greet or --service echo (a TLS server: --tls)`;
}

// --insecure: the certificate taken without a check is named, so that it can be compared.
function reportInsecure(details: TraceTls): void {
  if (details.insecure && details.fingerprint !== undefined) {
    writeStderr(
      `${PROGRAM}: TLS not verified (--insecure): accepted the certificate with SHA-256 fingerprint ${details.fingerprint}\n`,
    );
  }
}
