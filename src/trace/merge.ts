/**
 * Several processes' traces as one, in the order the events happened: each event carries the
 * system-wide monotonic clock (`monotonicNs`), so that a server's and a client's lines, which
 * reach a terminal in whatever order their pipes deliver them, can be sorted by when they
 * happened. Pure: no Node modules, so that a page or a script can use it as well.
 *
 * Where that order surprises a learner (the server's accept(), write() and close() before the
 * client's connect() returns), the merged trace says why, in one line.
 */
import { formatTraceEvent, type TraceEvent, type TraceLanguage } from './schema.js';

/** Where a line came from, in the order lines with the very same stamp are put. */
export const MERGE_SOURCES = ['demo', 'server', 'client'] as const;
/** A source of lines: the script running the programs, or one of the programs. */
export type MergeSource = (typeof MERGE_SOURCES)[number];

/** One line to merge: a trace event, or a plain line of output stamped when it was read. */
export interface StampedLine {
  /** Which output it came from: the demo itself, the server or the client. */
  source: MergeSource;
  /** The line's place among its source's lines, from 0: what keeps equal stamps in order. */
  seq: number;
  /** The system's monotonic clock, in ns: the event's own stamp, or when a plain line was read. */
  stampNs: bigint;
  /** The event, when the line is one. */
  event?: TraceEvent;
  /** The plain line (no newline), when it is not an event. */
  text?: string;
}

/**
 * The event a line of `--trace-format json` holds, or undefined for any other line (a program's
 * own messages share stderr with the trace). An event needs its `monotonicNs` stamp.
 */
export function parseTraceLine(line: string): TraceEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Partial<TraceEvent>;
  if (
    (e.transport !== 'tcp' && e.transport !== 'udp') ||
    (e.role !== 'server' && e.role !== 'client') ||
    typeof e.action !== 'string' ||
    typeof e.monotonicNs !== 'string' ||
    !/^\d+$/.test(e.monotonicNs)
  ) {
    return undefined;
  }
  return value as TraceEvent;
}

/**
 * The lines in the order they happened: by stamp, then by source (demo, server, client), then by
 * their order within the source. The result depends only on the lines, never on the order they
 * are given in.
 */
export function mergeByStamp(lines: readonly StampedLine[]): StampedLine[] {
  const rank = (source: MergeSource) => MERGE_SOURCES.indexOf(source);
  return [...lines].sort((a, b) => {
    if (a.stampNs !== b.stampNs) return a.stampNs < b.stampNs ? -1 : 1;
    if (a.source !== b.source) return rank(a.source) - rank(b.source);
    return a.seq - b.seq;
  });
}

/** `+0.412 ms`: `ns` nanoseconds as milliseconds with three decimals (rounded to the microsecond). */
export function formatOffset(ns: bigint): string {
  const micros = (ns + 500n) / 1000n;
  return `+${micros / 1000n}.${String(micros % 1000n).padStart(3, '0')} ms`;
}

const CALL: Readonly<Record<string, string>> = {
  accept: 'accept()',
  read: 'read()',
  eof: 'read()',
  write: 'write()',
  shutdown: 'shutdown()',
  close: 'close()',
};

function sameEnd(a: TraceEvent['remote'] | undefined, b: TraceEvent['local'] | undefined): boolean {
  if (a === undefined || b === undefined || a.port !== b.port) return false;
  // A dual-stack server sees an IPv4 client as ::ffff:a.b.c.d.
  const plain = (x: string) => (x.toLowerCase().startsWith('::ffff:') ? x.slice(7) : x);
  return plain(a.address) === plain(b.address);
}

function list(items: readonly string[], lang: TraceLanguage): string {
  if (lang === 'ko' || items.length < 2) return items.join(', ');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** The one-line explanation of a server that went ahead of the client's connect(). */
export function earlyServerNote(calls: readonly string[], lang: TraceLanguage): string {
  return lang === 'ko'
    ? `참고: 클라이언트 프로세스가 connect()의 반환을 보기 전에 서버의 ${list(calls, lang)}가 먼저 일어났습니다. 커널이 양쪽의 연결 설정(3-way handshake)을 이미 끝냈으므로, 서버는 클라이언트 프로세스가 다시 실행되기를 기다리지 않습니다.`
    : `note: the server's ${list(calls, lang)} came before the client process saw connect() return: the kernel had finished the handshake for both sides, so the server did not wait for the client process to run again.`;
}

/**
 * For each TCP client's connect() in `merged`: the server's calls on that same connection that
 * came before it (accept(), write(), close(), ...), in order, when there are any. Keyed by the
 * connect line's index in `merged`.
 */
export function serverAheadOfConnect(merged: readonly StampedLine[]): Map<number, string[]> {
  const notes = new Map<number, string[]>();
  merged.forEach((line, index) => {
    const connect = line.event;
    if (connect?.transport !== 'tcp' || connect.role !== 'client' || connect.action !== 'connect') return;
    // The server's side of this connection: its accept() names the client's own address as remote.
    const accept = merged.find(
      (l) =>
        l.event?.transport === 'tcp' &&
        l.event.role === 'server' &&
        l.event.action === 'accept' &&
        sameEnd(l.event.remote, connect.local),
    )?.event;
    if (accept === undefined) return;
    const calls: string[] = [];
    for (const earlier of merged.slice(0, index)) {
      const e = earlier.event;
      if (
        e?.transport !== 'tcp' ||
        e.role !== 'server' ||
        e.endpoint !== accept.endpoint ||
        e.connection !== accept.connection ||
        e.worker !== accept.worker
      ) {
        continue;
      }
      const call = CALL[e.action];
      if (call !== undefined && !calls.includes(call)) calls.push(call);
    }
    if (calls.length > 0) notes.set(index, calls);
  });
  return notes;
}

/**
 * The merged trace as lines of text (no newlines): each event with its time since the first
 * event (`+0.412 ms [server] 4a accept(): ...`, the times right-aligned), plain lines as they
 * are, and before a client's connect() that the server went ahead of, the line that says why.
 */
export function formatMerged(lines: readonly StampedLine[], lang: TraceLanguage = 'en'): string[] {
  const merged = mergeByStamp(lines);
  const first = merged.find((l) => l.event !== undefined)?.stampNs;
  const offsets = merged.map((l) =>
    l.event === undefined || first === undefined ? '' : formatOffset(l.stampNs - first),
  );
  const width = Math.max(0, ...offsets.map((o) => o.length));
  const notes = serverAheadOfConnect(merged);
  const out: string[] = [];
  merged.forEach((line, index) => {
    const calls = notes.get(index);
    if (calls !== undefined) out.push(`${' '.repeat(width)} ${earlyServerNote(calls, lang)}`);
    if (line.event === undefined) out.push(line.text ?? '');
    else out.push(`${(offsets[index] as string).padStart(width)} ${formatTraceEvent(line.event, lang)}`);
  });
  return out;
}
