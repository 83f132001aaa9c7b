/**
 * `--hex`: every read's and write's bytes (every datagram's) as `hexdump -C` prints them, each
 * block headed by the connection and the way the bytes went, on stderr beside the trace.
 *
 * The blocks go where the trace's lines go (stderr, through writeStderr), so that each block
 * follows its read or write line. Where stderr is a pipe, Node writes it without blocking and
 * buffers what the reader has not taken: once stderr's buffer is full (`writableNeedDrain`), the
 * connection that added the last block stops reading until stderr drains, so a slow reader (a
 * terminal's pager, `2>&1 | less`) slows the connections it dumps instead of filling the memory.
 * What cannot be held back (a datagram, the writes of a service that does not read) is dropped and
 * counted past {@link HEX_DROP_BYTES}, and the count is said in one line once stderr drains. A
 * failed stderr (the reader went away, a full disk) follows src/cli/output.ts's rules: dropped and
 * counted, and the program goes on. Where stderr is a file or a terminal, Node writes it
 * synchronously: nothing waits in memory, and a slow terminal slows the whole program.
 */
import { HEX_DROP_BYTES } from '../defaults.js';
import { subscribeBytes, type TraceBytes } from '../trace/bytes.js';
import { formatDumpHeading, hexdumpBytes } from '../trace/hexdump.js';
import type { TraceLanguage } from '../trace/schema.js';
import { writeStderr } from './output.js';
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

/** Subscribes to the bytes channel and prints each block on stderr, until the returned function is called. */
export function startHexDump(program: string, lang: TraceLanguage): () => void {
  const out = process.stderr;
  let droppedBlocks = 0;
  const holds: Array<() => void> = [];
  const releaseAll = () => {
    for (const release of holds.splice(0)) release();
  };
  const onDrain = () => {
    releaseAll();
    if (droppedBlocks > 0) {
      writeStderr(droppedDumpsLine(program, droppedBlocks, lang));
      droppedBlocks = 0;
    }
  };
  // A failed stderr (guardOutput counts it) holds nothing back: writeStderr drops what follows.
  out.on('drain', onDrain);
  out.on('error', releaseAll);
  const unsubscribe = subscribeBytes((message: TraceBytes) => {
    if (out.destroyed) {
      writeStderr(''); // counted as dropped, as every log line once stderr failed
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
        path: message.path,
        length: message.data.length,
      },
      lang,
    );
    writeStderr(`${heading}\n`);
    // As bytes: a dump is about five times the bytes it shows, and need never be a string.
    writeStderr(hexdumpBytes(message.data, { offset: message.offset }));
    if (out.writableNeedDrain && message.hold !== undefined) holds.push(message.hold());
  });
  return () => {
    unsubscribe();
    out.off('drain', onDrain);
    out.off('error', releaseAll);
    releaseAll();
  };
}

/**
 * What a program's `--trace` and `--hex` print, started together: the trace, the dump, or both,
 * all through writeStderr, so that each block follows its read or write line.
 * Returns how to stop them (a function that does nothing when neither is on).
 */
export function startTraceAndHex(
  program: string,
  lang: TraceLanguage,
  traceFormat: TraceFormat | undefined,
  hex: boolean,
): () => void {
  const stopTrace = traceFormat === undefined ? undefined : printTrace(lang, writeStderr, traceFormat);
  const stopDump = hex ? startHexDump(program, lang) : undefined;
  return () => {
    stopTrace?.();
    stopDump?.();
  };
}
