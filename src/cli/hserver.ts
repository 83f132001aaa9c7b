/**
 * `hserver [options] <port>`: the seed's hello_server.c, accepting repeatedly.
 */

import { isWorker } from '../cluster/workers.js';
import {
  DEFAULT_BACKLOG,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_HELLO_MESSAGE,
  DEFAULT_SERVER_HOST,
} from '../defaults.js';
import { createHelloServer } from '../services/hello.js';
import { ProxyProtocolStage } from '../transport/proxy-protocol.js';
import { VERSION } from '../version.js';
import {
  METRICS_HELP,
  METRICS_OPTIONS,
  parseCommandLine,
  parseCount,
  parseMetrics,
  parseSeconds,
  SECONDS_HELP,
  TRACE_OPTIONS,
} from './arguments.js';
import { HEX_HELP, HEX_OPTIONS, parseHexOption, startTraceAndHex } from './hex-option.js';
import { chooseListenSource } from './listen-source.js';
import { writeStderr } from './output.js';
import { answerInfoFlags, runCli } from './program.js';
import { PROXY_HELP, PROXY_OPTIONS, parseProxyOptions } from './proxy-options.js';
import { parseWorkers, serve } from './server-runner.js';
import { createServiceServer, parseService, TALK_SERVER_HELP, TALK_SERVER_OPTIONS } from './services.js';
import {
  createTlsStage,
  parseTlsServerValues,
  TLS_SERVER_HELP,
  TLS_SERVER_OPTIONS,
  tlsServerLine,
} from './tls-options.js';
import { chooseLanguage, chooseTraceFormat, TRACE_HELP } from './trace-output.js';
import { checkUnixWorkers, parseUnixServer, UNIX_SERVER_HELP, UNIX_SERVER_OPTIONS } from './unix-options.js';
import { parseViewRequest, VIEW_HELP, VIEW_OPTIONS } from './view-option.js';

const PROGRAM = 'hserver';
const USAGE = 'Usage : hserver <port>';
const HELP = `${USAGE}
       hserver [options] <port>
       hserver [options] --unix PATH

The lecture's TCP hello server: socket(), bind(), listen(), then repeatedly accept() a client,
write the message and a NUL byte, and close() it. Port 0 picks a free port; the bound address is
printed on stderr as "hserver: listening on ADDRESS:PORT". Started by systemd socket activation
(LISTEN_FDS), it serves the socket systemd passed instead, and <port> may be left out.
With --service greet it holds the lecture's Bob/Jane dialogue with each client instead, and with
--service echo it sends back every byte a client sends (RFC 862); discard, chargen, daytime, time
and qotd are the other classic test services (RFC 863-868, as xinetd has them built in).

Options:
  --host ADDRESS          address to bind (IPv4 or IPv6, e.g. :: or ::1)   [default: ${DEFAULT_SERVER_HOST}]
  --backlog N             listen() backlog (the seed uses 5)               [default: ${DEFAULT_BACKLOG}]
  --message TEXT          the text to send (qotd: the quote)               [default: ${DEFAULT_HELLO_MESSAGE}]
  --no-nul                do not send the NUL byte after the text
  --count N               exit after serving N clients (--count 1 is the C program)
  --max-connections N     refuse connections past N open at once
  --close-timeout SECS    on SIGINT/SIGTERM, how long clients in flight may
                          take to finish                                   [default: ${DEFAULT_CLOSE_TIMEOUT_MS / 1000}]
  --workers N             N processes, each listening on the port
                          (SO_REUSEPORT; see docs/programs.md)            [default: 1]
${UNIX_SERVER_HELP}${TALK_SERVER_HELP}${TLS_SERVER_HELP}${PROXY_HELP}${METRICS_HELP}${VIEW_HELP}${TRACE_HELP}${HEX_HELP}  --lang en|ko            language of the trace and the view's page (default: from LANG, else en;
                          the page follows the browser unless --lang is given)
  -h, --help              show this help
  -V, --version           show the version

${SECONDS_HELP}
Exit status: 0 when stopped by --count, SIGINT, SIGTERM or SIGHUP; 1 on a usage or socket error.
While clients are connected, the first signal says what it waits for and for how long; a second
signal drops the clients in flight and exits 1. SIGQUIT, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF,
SIGXCPU, SIGXFSZ, SIGPWR, SIGIO and SIGSTKFLT close it as SIGTERM does, say so in one line, and
exit 128 + the signal's number (SIGUSR2: 140). SIGUSR1 prints the stats on stderr.
`;

/** Runs hserver with the given arguments (without node and the script). */
export function run(argv: readonly string[]): Promise<void> {
  return runCli(PROGRAM, USAGE, () => main(argv));
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(PROGRAM, argv, {
    host: { type: 'string' },
    backlog: { type: 'string' },
    message: { type: 'string' },
    'no-nul': { type: 'boolean' },
    count: { type: 'string' },
    'max-connections': { type: 'string' },
    'close-timeout': { type: 'string' },
    workers: { type: 'string' },
    ...METRICS_OPTIONS,
    ...PROXY_OPTIONS,
    ...TRACE_OPTIONS,
    ...HEX_OPTIONS,
    ...VIEW_OPTIONS,
    ...TALK_SERVER_OPTIONS,
    ...TLS_SERVER_OPTIONS,
    ...UNIX_SERVER_OPTIONS,
  });
  const info = answerInfoFlags(values, PROGRAM, HELP, VERSION);
  if (info !== undefined) return info;
  const unix = parseUnixServer(PROGRAM, values, { '--host': values.host !== undefined });
  const source = chooseListenSource({
    program: PROGRAM,
    usage: USAGE,
    positionals,
    transport: 'tcp',
    unix,
    bindingOptions: {
      '--host': values.host !== undefined,
      '--backlog': values.backlog !== undefined,
      '--workers': values.workers !== undefined,
    },
  });
  const lang = chooseLanguage(values.lang, PROGRAM);
  const traceFormat = chooseTraceFormat(values, PROGRAM);
  const backlog =
    values.backlog === undefined ? undefined : parseCount(values.backlog, '--backlog', PROGRAM, 1, 65535);
  const count = values.count === undefined ? undefined : parseCount(values.count, '--count', PROGRAM);
  const maxConnections =
    values['max-connections'] === undefined
      ? undefined
      : parseCount(values['max-connections'], '--max-connections', PROGRAM);
  const closeTimeout =
    values['close-timeout'] === undefined
      ? undefined
      : parseSeconds(values['close-timeout'], '--close-timeout', PROGRAM);

  const proxy = parseProxyOptions(PROGRAM, values, { unix: unix !== undefined });
  const tls = parseTlsServerValues(PROGRAM, values);
  if (tls !== undefined && !isWorker()) writeStderr(tlsServerLine(PROGRAM, tls));
  const workers = parseWorkers(values.workers, count, PROGRAM);
  checkUnixWorkers(PROGRAM, unix, workers);
  const hex = parseHexOption(values, PROGRAM, { traceFormat, workers });
  const metrics = parseMetrics(values.metrics, PROGRAM, values['metrics-allow-host']);
  const view = parseViewRequest(
    values.view,
    PROGRAM,
    {
      transport: 'tcp',
      service: parseService(values.service, PROGRAM),
      lang: values.lang === undefined ? undefined : lang,
      // The page's buttons run clients in this process against its own service: they trust the
      // certificate made here, or take a given one without a check (its names may not be ours).
      clientTls:
        tls === undefined ? undefined : tls.selfSigned ? { ca: tls.credentials.cert } : { insecure: true },
    },
    values['view-allow-host'],
  );
  return serve({
    program: PROGRAM,
    workers,
    source,
    ...(metrics === undefined ? {} : { metrics }),
    build: ({ listen, reusePort }) => {
      const common = {
        ...listen,
        ...('path' in listen ? {} : { host: values.host }),
        backlog,
        reusePort,
        maxAccepts: count,
        maxConnections,
        closeTimeout,
        // Each server (each worker) has a stage of its own, with its own counts.
        // The PROXY header comes first, in plaintext, then the TLS handshake.
        stages: [
          ...(proxy === undefined ? [] : [new ProxyProtocolStage(proxy)]),
          ...(tls === undefined ? [] : [createTlsStage(PROGRAM, tls)]),
        ],
      };
      // A bad option value throws the library's InvalidArgumentError, which runCli prints as
      // "hserver: ..."; anything else is a bug and is reported as one.
      return createServiceServer(PROGRAM, values, common, () =>
        createHelloServer({ ...common, message: values.message, nul: !values['no-nul'] }),
      );
    },
    trace:
      traceFormat === undefined && !hex ? undefined : () => startTraceAndHex(PROGRAM, lang, traceFormat, hex),
    view,
    inFlight: (server) => server.connections,
    ...(closeTimeout === undefined ? {} : { closeTimeout }),
    lang,
  });
}
