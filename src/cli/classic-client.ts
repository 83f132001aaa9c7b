/**
 * `hclient` and `uclient` for the classic test services (discard, chargen, daytime, time, qotd):
 * what each prints. Loaded only when one of them is asked for.
 */

import { CHARGEN_LINE_BYTES, chargenPositions } from '../protocol/chargen.js';
import type { DaytimeReply } from '../protocol/daytime.js';
import { ECHO_PROMPT, EchoLineSplitter, isQuitLine } from '../protocol/echo-client.js';
import { type DecodedTime, formatIsoSeconds } from '../protocol/time.js';
import { fetchUdpChargen, readChargen } from '../services/chargen.js';
import { fetchDaytime, fetchUdpDaytime } from '../services/daytime.js';
import { sendDiscard, sendUdpDiscard } from '../services/discard.js';
import type { ClassicUdpClientOptions } from '../services/one-shot.js';
import { fetchQuote, fetchUdpQuote } from '../services/qotd.js';
import { fetchTime, fetchUdpTime } from '../services/time.js';
import type { TraceLanguage } from '../trace/schema.js';
import type { TlsClientOptions } from '../transport/tls-client.js';
import type { ClassicServiceName } from './service-name.js';

/** `--bytes`' default: one turn of the ring, 95 lines of 74 bytes. */
export const DEFAULT_CHARGEN_BYTES = chargenPositions('rfc864') * CHARGEN_LINE_BYTES;

/** Where the client connects, and how. */
export interface ClassicTarget {
  /** The server's host and port, or its Unix socket `path`. */
  host?: string;
  port?: number;
  path?: string;
  timeout: number | undefined;
  signal: AbortSignal;
  /** Speak TLS (hclient --tls). */
  tls?: TlsClientOptions | undefined;
}

/** Where the client reads and writes. */
export interface ClassicIo {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream;
  lang: TraceLanguage;
}

/** `Time from server: 2026-12-07T05:48:23Z (3973816103 seconds since 1900-01-01 00:00 UTC)`. */
export function formatTimeLine(time: DecodedTime): string {
  return `Time from server: ${formatIsoSeconds(time.date)} (${time.seconds} seconds since 1900-01-01 00:00 UTC)\n`;
}

/** `Daytime from server: 07 DEC 2026 05:48:23 UTC (2026-12-07T05:48:23Z)`; the ISO form when readable. */
export function formatDaytimeLine(reply: DaytimeReply): string {
  const iso = reply.date === undefined ? '' : ` (${formatIsoSeconds(reply.date)})`;
  return `Daytime from server: ${reply.text}${iso}\n`;
}

/** `Quote from server: ...`, the quote's own lines after the first as they are. */
export function formatQuoteLines(quote: string): string {
  return `Quote from server: ${quote.replace(/\n$/, '')}\n`;
}

function chargenSummary(bytes: number, patterns: readonly string[], lang: TraceLanguage): string {
  const which = patterns.length === 1 ? patterns[0] : patterns.join(lang === 'ko' ? ' 또는 ' : ' or ');
  return lang === 'ko'
    ? `${bytes}바이트를 읽음: 모든 바이트가 패턴(${which})과 같음\n`
    : `${bytes} bytes read, every one as the pattern (${which}) has it\n`;
}

function discardSummary(bytes: number, datagrams: number | undefined, lang: TraceLanguage): string {
  if (lang === 'ko') {
    return datagrams === undefined
      ? `discard 서버로 ${bytes}바이트를 보냄\n`
      : `discard 서버로 데이터그램 ${datagrams}개, ${bytes}바이트를 보냄 (응답은 오지 않음)\n`;
  }
  return datagrams === undefined
    ? `Sent ${bytes} bytes to the discard server\n`
    : `Sent ${datagrams} datagram${datagrams === 1 ? '' : 's'} (${bytes} bytes) to the discard server, which answers none\n`;
}

/** hclient for a classic service over TCP. */
export async function runClassicTcpClient(
  service: ClassicServiceName,
  target: ClassicTarget,
  io: ClassicIo,
  chargenBytes: number = DEFAULT_CHARGEN_BYTES,
): Promise<void> {
  switch (service) {
    case 'time':
      io.output.write(formatTimeLine(await fetchTime(target)));
      return;
    case 'daytime':
      io.output.write(formatDaytimeLine(await fetchDaytime(target)));
      return;
    case 'qotd':
      io.output.write(formatQuoteLines(await fetchQuote(target)));
      return;
    case 'chargen': {
      const reading = await readChargen({ ...target, bytes: chargenBytes });
      io.output.write(`Chargen from server: ${reading.firstLine.toString('latin1')}\n`);
      io.output.write(chargenSummary(reading.bytes, reading.patterns, io.lang));
      return;
    }
    case 'discard': {
      const { bytes } = await sendDiscard({
        ...target,
        input: io.input as AsyncIterable<Uint8Array | string>,
      });
      io.output.write(discardSummary(bytes, undefined, io.lang));
      return;
    }
  }
}

/** uclient for a classic service: one datagram each way (discard: input lines, no replies). */
export async function runClassicUdpClient(
  service: ClassicServiceName,
  options: ClassicUdpClientOptions,
  io: ClassicIo,
  message: Buffer | undefined,
): Promise<void> {
  switch (service) {
    case 'time':
      io.output.write(formatTimeLine(await fetchUdpTime(options)));
      return;
    case 'daytime':
      io.output.write(formatDaytimeLine(await fetchUdpDaytime(options)));
      return;
    case 'qotd':
      io.output.write(formatQuoteLines(await fetchUdpQuote(options)));
      return;
    case 'chargen': {
      const reply = await fetchUdpChargen(options);
      const lines = reply.lines;
      io.output.write(
        io.lang === 'ko'
          ? `chargen 서버의 응답: ${reply.datagram.length}바이트, ${lines}줄, 모든 바이트가 패턴과 같음\n`
          : `Chargen from server: ${reply.datagram.length} bytes in ${lines} line${lines === 1 ? '' : 's'}, every one as the pattern has it\n`,
      );
      return;
    }
    case 'discard': {
      const datagrams =
        message === undefined ? inputLines(io.input, io.input.isTTY === true, io.output) : [message];
      const sent = await sendUdpDiscard({
        host: options.host,
        port: options.port,
        datagrams,
        signal: options.signal,
      });
      io.output.write(discardSummary(sent.bytes, sent.datagrams ?? 0, io.lang));
      return;
    }
  }
}

// Each input line is one datagram, with its newline (as uclient's echo sends them); q or Q quits.
async function* inputLines(
  input: NodeJS.ReadableStream,
  prompt: boolean,
  output: NodeJS.WritableStream,
): AsyncGenerator<Uint8Array> {
  const splitter = new EchoLineSplitter(65_507);
  if (prompt) output.write(ECHO_PROMPT);
  for await (const chunk of input) {
    for (const line of splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk)) {
      if (isQuitLine(line)) return;
      yield line;
      if (prompt) output.write(ECHO_PROMPT);
    }
  }
  const last = splitter.end();
  if (last !== undefined && !isQuitLine(last)) yield last;
}
