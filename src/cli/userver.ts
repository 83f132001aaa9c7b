/**
 * `userver [options] <port>`: the lecture's UDP server flow: socket(), bind(), then recvfrom() and
 * sendto() in a loop, answering every datagram to the address and port it came from.
 */

import {
  DEFAULT_HELLO_MESSAGE,
  DEFAULT_SERVER_HOST,
  DEFAULT_UDP_REPLY_BURST,
  DEFAULT_UDP_REPLY_RATE,
} from '../defaults.js';
import { createUdpChargenServer } from '../services/chargen.js';
import { createUdpDaytimeServer } from '../services/daytime.js';
import { createUdpDiscardServer } from '../services/discard.js';
import { createUdpQotdServer } from '../services/qotd.js';
import { createUdpTimeServer } from '../services/time.js';
import { createUdpEchoServer } from '../services/udp-echo.js';
import { createUdpHelloServer } from '../services/udp-hello.js';
import type { UdpRateLimitOptions, UdpServer, UdpServerOptions } from '../transport/udp-server.js';
import { VERSION } from '../version.js';
import {
  METRICS_HELP,
  METRICS_OPTIONS,
  parseCommandLine,
  parseCount,
  parseMetrics,
  TRACE_OPTIONS,
} from './arguments.js';
import { CLASSIC_SERVER_HELP, CLASSIC_SERVER_OPTIONS, parseClassicServerValues } from './classic-options.js';
import { HEX_HELP, HEX_OPTIONS, parseHexOption, startTraceAndHex } from './hex-option.js';
import { chooseListenSource } from './listen-source.js';
import { answerInfoFlags, CliError, runCli } from './program.js';
import { parseWorkers, serve } from './server-runner.js';
import { parseService, UDP_SERVICES, type UdpServiceName } from './service-name.js';
import { chooseLanguage, chooseTraceFormat, TRACE_HELP } from './trace-output.js';
import { refuseUnixDatagram, UNIX_DATAGRAM_OPTIONS } from './unix-options.js';
import { parseViewRequest, VIEW_HELP, VIEW_OPTIONS } from './view-option.js';

const PROGRAM = 'userver';
const USAGE = 'Usage : userver <port>';
const HELP = `${USAGE}
       userver [options] <port>

The lecture's UDP server: socket(), bind(), then repeatedly recvfrom() a datagram and sendto() the
reply to the address and port it came from. No listen(), no accept(): every client is served from
the one socket, interleaved. Port 0 picks a free port; the bound address is printed on stderr as
"userver: listening on ADDRESS:PORT". Started by systemd socket activation (LISTEN_FDS), it serves
the socket systemd passed instead, and <port> may be left out.

Options:
  --host ADDRESS          address to bind (IPv4 or IPv6, e.g. :: or ::1)   [default: ${DEFAULT_SERVER_HOST}]
  --service NAME          hello: reply with the message and a NUL byte;
                          echo: send each datagram back byte for byte;
                          discard, chargen, daytime, time, qotd: the other
                          classic test services (RFC 863-868; see
                          docs/services.md)                                [default: hello]
  --message TEXT          the hello text (qotd: the quote)                 [default: ${DEFAULT_HELLO_MESSAGE}]
${CLASSIC_SERVER_HELP}
  --no-nul                do not send the NUL byte after the hello text
  --count N               exit after sending N replies
  --rate N                replies per second each source address may get   [default: ${DEFAULT_UDP_REPLY_RATE}]
  --burst N               replies a source may get back to back            [default: ${DEFAULT_UDP_REPLY_BURST}]
  --no-rate-limit         answer every datagram (only where every sender is trusted)
  --workers N             N processes, each bound to the port
                          (SO_REUSEPORT; see docs/programs.md)            [default: 1]
${METRICS_HELP}${VIEW_HELP}${TRACE_HELP}${HEX_HELP}  --lang en|ko            language of the trace and the view's page (default: from LANG, else en;
                          the page follows the browser unless --lang is given)
  -h, --help              show this help
  -V, --version           show the version

Replies over the rate limit are dropped silently, as UDP allows: the limit keeps the server from
being used to flood an address that someone forges as the source of their datagrams. chargen and
qotd answer a few bytes with up to 1024 (amplifiers): for them the limit cannot be turned off.
chargen, daytime, time and qotd never answer a source port below 1024, as xinetd's do.

Exit status: 0 when stopped by --count, SIGINT, SIGTERM or SIGHUP; 1 on a usage or socket error.
SIGQUIT, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGPWR, SIGIO and SIGSTKFLT close
it as SIGTERM does, say so in one line, and exit 128 + the signal's number (SIGUSR2: 140).
SIGUSR1 prints the stats on stderr.
`;

/** Runs userver with the given arguments (without node and the script). */
export function run(argv: readonly string[]): Promise<void> {
  return runCli(PROGRAM, USAGE, () => main(argv));
}

/** Parses a positive decimal number (`50`, `0.5`) given on the command line. */
function parseRate(text: string, option: string): number {
  const n = /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(n > 0) || n > 1_000_000) {
    throw new CliError(`${PROGRAM}: invalid ${option} '${text}': expected a number above 0, at most 1000000`);
  }
  return n;
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(PROGRAM, argv, {
    host: { type: 'string' },
    service: { type: 'string' },
    message: { type: 'string' },
    'no-nul': { type: 'boolean' },
    count: { type: 'string' },
    rate: { type: 'string' },
    burst: { type: 'string' },
    'no-rate-limit': { type: 'boolean' },
    workers: { type: 'string' },
    ...CLASSIC_SERVER_OPTIONS,
    ...METRICS_OPTIONS,
    ...TRACE_OPTIONS,
    ...HEX_OPTIONS,
    ...VIEW_OPTIONS,
    ...UNIX_DATAGRAM_OPTIONS,
  });
  const info = answerInfoFlags(values, PROGRAM, HELP, VERSION);
  if (info !== undefined) return info;
  refuseUnixDatagram(PROGRAM, values);
  const source = chooseListenSource({
    program: PROGRAM,
    usage: USAGE,
    positionals,
    transport: 'udp',
    bindingOptions: { '--host': values.host !== undefined, '--workers': values.workers !== undefined },
  });
  const lang = chooseLanguage(values.lang, PROGRAM);
  const traceFormat = chooseTraceFormat(values, PROGRAM);
  const service = parseService(values.service, PROGRAM, UDP_SERVICES);
  if (service !== 'hello' && values['no-nul']) {
    throw new CliError(`${PROGRAM}: --no-nul applies to --service hello, not ${service}`);
  }
  if (service !== 'hello' && service !== 'qotd' && values.message !== undefined) {
    throw new CliError(`${PROGRAM}: --message applies to --service hello or qotd, not ${service}`);
  }
  const classic = parseClassicServerValues(PROGRAM, service, values);
  if (values['no-rate-limit'] && (service === 'chargen' || service === 'qotd')) {
    throw new CliError(
      `${PROGRAM}: --no-rate-limit is refused for --service ${service}: it answers anyone's few bytes with many, so without a limit it floods whatever address a datagram's forged source names (see docs/services.md)`,
    );
  }
  const count = values.count === undefined ? undefined : parseCount(values.count, '--count', PROGRAM);
  if (values['no-rate-limit'] && (values.rate !== undefined || values.burst !== undefined)) {
    throw new CliError(`${PROGRAM}: --no-rate-limit cannot go with --rate or --burst`);
  }
  const rateLimit: UdpRateLimitOptions | false = values['no-rate-limit']
    ? false
    : {
        rate: values.rate === undefined ? undefined : parseRate(values.rate, '--rate'),
        burst:
          values.burst === undefined ? undefined : parseCount(values.burst, '--burst', PROGRAM, 1, 1_000_000),
      };

  const workers = parseWorkers(values.workers, count, PROGRAM);
  const hex = parseHexOption(values, PROGRAM, { traceFormat, workers });
  const metrics = parseMetrics(values.metrics, PROGRAM, values['metrics-allow-host']);
  const view = parseViewRequest(
    values.view,
    PROGRAM,
    {
      transport: 'udp',
      service: service,
      lang: values.lang === undefined ? undefined : lang,
    },
    values['view-allow-host'],
  );
  return serve({
    program: PROGRAM,
    workers,
    source,
    ...(metrics === undefined ? {} : { metrics }),
    build: ({ listen, reusePort }) => {
      const common = { ...listen, host: values.host, reusePort, maxReplies: count, rateLimit };
      return buildUdpServer(service, common, classic, values);
    },
    trace:
      traceFormat === undefined && !hex ? undefined : () => startTraceAndHex(PROGRAM, lang, traceFormat, hex),
    view,
  });
}

function buildUdpServer(
  service: UdpServiceName,
  common: Omit<UdpServerOptions, 'onMessage'>,
  classic: ReturnType<typeof parseClassicServerValues>,
  values: { message?: string; 'no-nul'?: boolean },
): UdpServer {
  switch (service) {
    case 'hello':
      return createUdpHelloServer({ ...common, message: values.message, nul: !values['no-nul'] });
    case 'echo':
      return createUdpEchoServer(common);
    case 'discard':
      return createUdpDiscardServer(common);
    case 'chargen':
      return createUdpChargenServer({ ...common, ...(classic.pattern ? { pattern: classic.pattern } : {}) });
    case 'daytime':
      return createUdpDaytimeServer(common);
    case 'time':
      return createUdpTimeServer(common);
    case 'qotd':
      return createUdpQotdServer({ ...common, ...(classic.quotes ? { quotes: classic.quotes } : {}) });
  }
}
