/**
 * `--hex`: every read's and write's bytes (every datagram's) as `hexdump -C` prints them, each
 * block headed by the connection and the way the bytes went, on stderr beside the trace.
 *
 * The dump has a stream of its own on stderr's descriptor, written without blocking the event
 * loop, so that a slow reader (a terminal, `2>&1 | less`) slows only the connections it dumps:
 * once the stream holds {@link HEX_HIGH_WATER_BYTES}, the connection that added the last block
 * stops reading until it drains. What cannot be held back (a datagram, the writes of a service
 * that does not read) is dropped and counted past {@link HEX_DROP_BYTES}, and the count is said
 * in one line once the stream drains. With `--trace` on, the trace's lines go through the same
 * stream, so that each block follows its read or write line. A failed stream (the reader went
 * away, a full disk) follows src/cli/output.ts's rules for stderr: dropped and counted, and the
 * program goes on.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { HEX_DROP_BYTES, HEX_FLUSH_TIMEOUT_MS, HEX_HIGH_WATER_BYTES } from '../defaults.js';
import { subscribeBytes, type TraceBytes } from '../trace/bytes.js';
import { formatDumpHeading, formatHexdump } from '../trace/hexdump.js';
import type { TraceLanguage } from '../trace/schema.js';
import { countDroppedLogLines, settleBeforeExit } from './output.js';
import { CliError } from './program.js';
import { printTrace, type TraceFormat } from './trace-output.js';

/** The parseArgs spec of `--hex`. */
export const HEX_OPTIONS = {
  hex: { type: 'boolean' },
} as const;

/** The help line of `--hex`. */
export const HEX_HELP = `  --hex                   print the bytes each way on stderr, as hexdump -C does
                          (see docs/hexdump.md)
`;

/**
 * Checks `--hex` against the options it cannot go with (`--trace-format json`, whose lines must
 * stay JSON; `--workers`, whose processes would interleave their dumps). Returns whether it is on.
 */
export function parseHexOption(
  values: { hex?: boolean | undefined },
  program: string,
  conflicts: { traceFormat?: TraceFormat | undefined; workers?: number | undefined } = {},
): boolean {
  if (values.hex !== true) return false;
  if (conflicts.traceFormat === 'json') {
    throw new CliError(
      `${program}: --hex cannot be combined with --trace-format json (its lines must stay JSON)`,
    );
  }
  if (conflicts.workers !== undefined && conflicts.workers > 1) {
    throw new CliError(
      `${program}: --hex cannot be combined with --workers (each worker's dump would interleave with the others')`,
    );
  }
  return true;
}

/** The line said once the dump's stream drains after blocks were dropped. */
export function droppedDumpsLine(program: string, count: number, lang: TraceLanguage): string {
  return lang === 'ko'
    ? `${program}: --hex: 출력이 따라가지 못해 덤프 ${count}개를 버림\n`
    : `${program}: --hex: ${count === 1 ? '1 dump' : `${count} dumps`} dropped: the output could not keep up\n`;
}

/** A running dump: how to write a line into it (the trace's), and how to stop. */
export interface HexDump {
  /** Writes whole lines into the dump's stream, in order with the blocks. */
  write(text: string): void;
  /** Stops dumping (what is written still goes out before the program exits). */
  stop(): void;
}

/** Options of {@link startHexDump}. */
export interface HexDumpOptions {
  program: string;
  lang: TraceLanguage;
  /** Where the dump goes. @default a stream on descriptor 2 (stderr) */
  stream?: WriteStream;
}

/** Subscribes to the bytes channel and prints each block, until `stop()`. */
export function startHexDump(options: HexDumpOptions): HexDump {
  const { program, lang } = options;
  const out =
    options.stream ??
    createWriteStream('/dev/stderr', { fd: 2, autoClose: false, highWaterMark: HEX_HIGH_WATER_BYTES });
  let failed = false;
  let droppedBlocks = 0;
  const holds: Array<() => void> = [];
  const releaseAll = () => {
    for (const release of holds.splice(0)) release();
  };
  out.on('error', () => {
    // As stderr's own failures: every later line is dropped and counted, never thrown.
    failed = true;
    countDroppedLogLines();
    releaseAll();
  });
  out.on('drain', () => {
    releaseAll();
    if (droppedBlocks > 0 && !failed) {
      const count = droppedBlocks;
      droppedBlocks = 0;
      out.write(droppedDumpsLine(program, count, lang));
    }
  });
  const write = (text: string) => {
    if (failed || out.destroyed) {
      failed = true;
      countDroppedLogLines();
      return;
    }
    out.write(text);
  };
  const onBytes = (message: TraceBytes) => {
    if (failed || out.destroyed) {
      countDroppedLogLines();
      return;
    }
    // What cannot be held back (or was not, in time) is dropped past the bound, not buffered.
    if (out.writableLength >= HEX_DROP_BYTES) {
      droppedBlocks++;
      return;
    }
    const heading = formatDumpHeading(
      {
        transport: message.transport,
        role: message.role,
        connection: message.connection,
        direction: message.direction,
        remote: message.remote,
        length: message.data.length,
      },
      lang,
    );
    out.write(`${heading}\n${formatHexdump(message.data, { offset: message.offset })}`);
    if (out.writableNeedDrain && message.hold !== undefined) holds.push(message.hold());
  };
  const unsubscribe = subscribeBytes(onBytes);
  settleBeforeExit(() => settle(out));
  return {
    write,
    stop: () => {
      unsubscribe();
      releaseAll();
    },
  };
}

// Resolves once what was written has gone out, the stream failed, or the bound passed (a reader
// that stopped reading must not keep the program from exiting).
function settle(out: WriteStream): Promise<void> {
  if (out.writableLength === 0 || out.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, HEX_FLUSH_TIMEOUT_MS);
    timer.unref();
    function done() {
      clearTimeout(timer);
      out.off('error', done);
      resolve();
    }
    // The callback of a write runs once every write before it has gone out.
    out.write('', done);
    out.once('error', done);
  });
}

/**
 * What a program's `--trace` and `--hex` print, started together: the trace alone on stderr as
 * before, the dump alone, or both through the dump's stream so that they interleave in order.
 * Returns how to stop them (a function that does nothing when neither is on).
 */
export function startTraceAndHex(
  program: string,
  lang: TraceLanguage,
  traceFormat: TraceFormat | undefined,
  hex: boolean,
): () => void {
  if (!hex) return traceFormat === undefined ? () => {} : printTrace(lang, undefined, traceFormat);
  const dump = startHexDump({ program, lang });
  const stopTrace = traceFormat === undefined ? undefined : printTrace(lang, dump.write, traceFormat);
  return () => {
    stopTrace?.();
    dump.stop();
  };
}
