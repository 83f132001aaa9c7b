/**
 * The page's drawing decisions, apart from the DOM: from what the server sends (a snapshot, then
 * updates) to which boxes and arrows light, which way each arrow runs, and every label, row and
 * line of text, in English or Korean. Pure: the page's script (main.ts) only applies what these
 * functions return, and the unit tests call them directly.
 */
import type { TraceLanguage } from '../../trace/schema.js';
import type { ServerStats } from '../../transport/stats.js';
import type { ViewAddress, ViewConnection, ViewCounters, ViewEnd, ViewListener } from '../state.js';
import { bytesText, datagramsText, kernelStateText, reasonText, type WordKey, word } from './words.js';

/** What the page knows of the server, from the snapshot and the updates after it. */
export interface PageView {
  transport: 'tcp' | 'udp';
  service?: string;
  /** The client the page's button runs. */
  client?: string;
  listen?: ViewAddress & { acceptQueue: number | 'unknown' };
  listeners?: ViewListener[];
  stats?: ServerStats;
  rates?: { accepted: number; bytesIn: number; bytesOut: number };
  counters?: ViewCounters;
  /** Connections left out of the last update (the server samples under load). */
  leftOut?: number;
  /** The server accepts over 200 connections a second: the view (and the page) slow their pace. */
  busy?: boolean;
}

/** Most rows the connection list holds in the page at once: the page's work stays bounded under load. */
export const MAX_ROWS = 100;

/** An address as the page writes it: `127.0.0.1:5000`, `[::1]:5000`; `?` when not known. */
export function addressText(a: ViewAddress | undefined): string {
  if (a === undefined || a.address === '') return '?';
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** Bytes as the page shows them in text: control characters visible (`\0`, `\n`, `\r`). */
export function showText(text: string): string {
  return text.replace(/\0/g, '\\0').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

/** One arrow of a flow diagram: one element per direction (`data-arrow`, `data-from`). */
export interface ArrowDrawing {
  arrow: 'connect' | 'data' | 'fin' | 'datagram' | 'reply';
  from: ViewEnd;
  /** The selected connection used it. */
  lit: boolean;
  label: string;
  /** The FIN that went first (TCP): drawn in the upper of the two FIN rows. */
  first?: boolean;
}

/**
 * The TCP diagram's arrows for connection `c` (none selected: all dark), in a fixed order: the
 * connection request, the data each way (with its byte count), the FIN each way. A FIN arrow lights
 * once that end is known to have sent it; the one sent first is marked `first`.
 */
export function tcpArrows(c: ViewConnection | undefined, lang: TraceLanguage): ArrowDrawing[] {
  const sent = c?.bytesIn ?? 0;
  const received = c?.bytesOut ?? 0;
  const fin = c?.finSent ?? { client: false, server: false };
  const first = firstFin(c);
  const data = word('arrowData', lang);
  const finLabel = (from: ViewEnd): string => {
    const text =
      lang === 'ko'
        ? `FIN: ${from === 'client' ? '서버의' : '클라이언트의'} read()가 0을 반환`
        : `FIN: the ${from === 'client' ? 'server' : 'client'}'s read() returns 0`;
    if (c?.closedFirst !== from) return text;
    return lang === 'ko' ? `${text} (먼저)` : `${text} (first)`;
  };
  // The FIN sent first takes the upper row: the close starts at the side that closed first.
  const order: ViewEnd[] = first === 'server' ? ['server', 'client'] : ['client', 'server'];
  return [
    {
      arrow: 'connect',
      from: 'client',
      lit: c?.steps.includes('4a') ?? false,
      label: word('arrowConnect', lang),
    },
    { arrow: 'data', from: 'client', lit: sent > 0, label: `${data} ${bytesText(sent, lang)}` },
    { arrow: 'data', from: 'server', lit: received > 0, label: `${data} ${bytesText(received, lang)}` },
    ...order.map(
      (from, i): ArrowDrawing => ({
        arrow: 'fin',
        from,
        lit: fin[from],
        label: finLabel(from),
        first: i === 0,
      }),
    ),
  ];
}

// The end whose FIN went first: the model's word, else the only end known to have sent one.
function firstFin(c: ViewConnection | undefined): ViewEnd | undefined {
  if (c === undefined) return undefined;
  if (c.closedFirst !== undefined) return c.closedFirst;
  if (c.finSent.server && !c.finSent.client) return 'server';
  if (c.finSent.client && !c.finSent.server) return 'client';
  return undefined;
}

/** The UDP diagram's two arrows: the client's datagram and the server's reply. */
export function udpArrows(c: ViewConnection | undefined, lang: TraceLanguage): ArrowDrawing[] {
  const inCount = c?.datagramsIn ?? 0;
  const outCount = c?.repliesOut ?? 0;
  return [
    {
      arrow: 'datagram',
      from: 'client',
      lit: c?.steps.includes('recvfrom') ?? false,
      label: c === undefined ? word('arrowDatagram', lang) : datagramsText(inCount, lang),
    },
    {
      arrow: 'reply',
      from: 'server',
      lit: c?.steps.includes('sendto') ?? false,
      label:
        c === undefined
          ? word('arrowReply', lang)
          : `${word('arrowReply', lang)} ${datagramsText(outCount, lang)}`,
    },
  ];
}

/** One box of a flow diagram: `data-step`, lit or not (and inferred: drawn dashed), its line of detail. */
export interface BoxDrawing {
  step: string;
  lit: boolean;
  inferred: boolean;
  detail: string;
}

function firstListener(view: PageView): ViewListener | undefined {
  return view.listeners?.[0];
}

/** The TCP diagram's boxes for the server's listener and connection `c`. */
export function tcpBoxes(view: PageView, c: ViewConnection | undefined, lang: TraceLanguage): BoxDrawing[] {
  const l = firstListener(view);
  const lsteps = l?.steps ?? [];
  const listening = view.listen !== undefined || lsteps.includes('3');
  const steps = c?.steps ?? [];
  const cs = c?.clientSteps ?? [];
  const inferred = c !== undefined && c.clientSource === 'server';
  const accepted = steps.includes('4a');
  const boxes: BoxDrawing[] = [];
  const add = (step: string, lit: boolean, detail = '', dashed = false) =>
    boxes.push({ step, lit, inferred: lit && dashed, detail });
  const early = (s: string) => lsteps.includes(s) || listening || accepted;
  const combined =
    l?.combinedIn !== undefined
      ? word('combined', lang)
      : l?.fd !== undefined
        ? `${word('fd', lang)} ${l.fd}`
        : '';
  add('tcp-server-1', early('1'), combined);
  add(
    'tcp-server-2',
    early('2'),
    l?.path ?? (view.listen ? addressText(view.listen) : l?.local ? addressText(l.local) : ''),
  );
  const queue = view.listen ? `${word('acceptQueue', lang)} ${queueText(view.listen.acceptQueue, lang)}` : '';
  const backlog = l?.backlog ? `${word('backlog', lang)} ${l.backlog}` : '';
  add('tcp-server-3', early('3'), [backlog, queue].filter((x) => x !== '').join(', '));
  add('tcp-server-4', steps.length > 0);
  add(
    'tcp-server-4a',
    steps.includes('4a'),
    c
      ? `#${c.id} ${word('remote', lang)} ${c.unix === undefined ? addressText(c.remote) : unixPeerText(c, lang)}`
      : '',
  );
  add('tcp-server-4b', steps.includes('4b'), c ? bytesInOut(c.bytesIn, c.bytesOut, lang) : '');
  add('tcp-server-4c', steps.includes('4c'), c && !c.open ? reasonText(c.reason ?? 'done', lang) : '');
  add('tcp-server-5', lsteps.includes('5'));
  add('tcp-client-1', cs.includes('1'), '', inferred);
  add(
    'tcp-client-2',
    cs.includes('2'),
    c ? `${addressText(c.remote)} → ${addressText(c.local)}` : '',
    inferred,
  );
  add('tcp-client-3', cs.includes('3'), c ? bytesSentReceived(c.bytesIn, c.bytesOut, lang) : '', inferred);
  add('tcp-client-4', cs.includes('4'), c?.closedFirst ? closedFirstText(c.closedFirst, lang) : '', inferred);
  return boxes;
}

/** The UDP diagram's boxes for the server's socket and peer `c`. */
export function udpBoxes(view: PageView, c: ViewConnection | undefined, lang: TraceLanguage): BoxDrawing[] {
  const l = firstListener(view);
  const lsteps = l?.steps ?? [];
  const steps = c?.steps ?? [];
  const cs = c?.clientSteps ?? [];
  const inferred = c !== undefined && c.clientSource === 'server';
  const boxes: BoxDrawing[] = [];
  const add = (step: string, lit: boolean, detail = '', dashed = false) =>
    boxes.push({ step, lit, inferred: lit && dashed, detail });
  add(
    'udp-server-socket',
    lsteps.includes('socket') || view.listen !== undefined,
    l?.combinedIn ? word('combinedUdp', lang) : '',
  );
  add(
    'udp-server-bind',
    lsteps.includes('bind') || view.listen !== undefined,
    view.listen ? addressText(view.listen) : '',
  );
  const received = c
    ? lang === 'ko'
      ? `${addressText(c.remote)}에서 ${datagramsText(c.datagramsIn ?? 0, lang)}, ${bytesText(c.bytesIn, lang)} 수신`
      : `${datagramsText(c.datagramsIn ?? 0, lang)}, ${bytesText(c.bytesIn, lang)} from ${addressText(c.remote)}`
    : '';
  add('udp-server-recvfrom', steps.includes('recvfrom'), received);
  let replied = '';
  if (c) {
    const sent = `${datagramsText(c.repliesOut ?? 0, lang)}, ${bytesText(c.bytesOut, lang)}`;
    const dropped = c.dropped
      ? lang === 'ko'
        ? `, 전송률 제한으로 ${c.dropped}개 보내지 않음`
        : `, ${c.dropped} not sent (rate limit)`
      : '';
    replied = sent + dropped;
  }
  add('udp-server-sendto', steps.includes('sendto'), replied);
  add('udp-server-close', lsteps.includes('close'));
  for (const s of ['socket', 'sendto', 'recvfrom', 'close'])
    add(`udp-client-${s}`, cs.includes(s), '', inferred);
  return boxes;
}

function queueText(depth: number | 'unknown', lang: TraceLanguage): string {
  return depth === 'unknown' ? kernelStateText('unknown', lang) : String(depth);
}

function bytesInOut(bytesIn: number, bytesOut: number, lang: TraceLanguage): string {
  return lang === 'ko'
    ? `수신 ${bytesText(bytesIn, lang)}, 송신 ${bytesText(bytesOut, lang)}`
    : `in ${bytesText(bytesIn, lang)}, out ${bytesText(bytesOut, lang)}`;
}

// The client's step 3: what it sent is what the server received.
function bytesSentReceived(bytesIn: number, bytesOut: number, lang: TraceLanguage): string {
  return lang === 'ko'
    ? `송신 ${bytesText(bytesIn, lang)}, 수신 ${bytesText(bytesOut, lang)}`
    : `sent ${bytesText(bytesIn, lang)}, received ${bytesText(bytesOut, lang)}`;
}

/** `the server closed first` / `서버가 먼저 닫음`. */
export function closedFirstText(end: ViewEnd, lang: TraceLanguage): string {
  return `${word(end === 'server' ? 'serverWord' : 'clientWord', lang)} ${word('closedFirst', lang)}`;
}

/**
 * The line under a column of the TCP diagram: `kernel: TIME_WAIT`, `커널: 아직 읽지 않음`. A Unix
 * socket has no TCP states: the server's column names the socket's path, the client's the process
 * at the other end (`peer process: pid 4242, uid 1000 (socat)`).
 */
export function kernelLine(c: ViewConnection | undefined, end: ViewEnd, lang: TraceLanguage): string {
  if (c === undefined) return '';
  if (c.unix !== undefined) {
    return end === 'server'
      ? `${word('unixSocket', lang)}: ${c.unix.path}`
      : `${word('unixPeer', lang)}: ${unixPeerText(c, lang)}`;
  }
  return `${word('kernel', lang)}: ${kernelStateText(c.kernel[end], lang)}`;
}

/** The process at the other end of a Unix connection: `pid 4242, uid 1000 (socat)`, or `unknown`. */
export function unixPeerText(c: ViewConnection, lang: TraceLanguage): string {
  const peer = c.unix?.peer ?? 'unknown';
  if (typeof peer === 'string') return kernelStateText(peer, lang);
  const uid = peer.uid === undefined ? '' : `, ${word('uid', lang)} ${peer.uid}`;
  const command = peer.command === undefined ? '' : ` (${peer.command})`;
  return `pid ${peer.pid}${uid}${command}`;
}

/** The list's column headings, by transport (UDP lists peers, with datagram counts instead of kernel states). */
export function tableHeads(transport: 'tcp' | 'udp'): WordKey[] {
  return transport === 'udp'
    ? ['id', 'peer', 'calls', 'bytes', 'datagramsIn', 'repliesOut']
    : ['id', 'remote', 'steps', 'bytes', 'kernelServer', 'kernelClient'];
}

/** One cell of a row: its text, and `state` for a kernel state (tests select `td.state`). */
export interface CellDrawing {
  text: string;
  state: boolean;
}

/** The cells of connection `c`'s row in the list. */
export function rowCells(c: ViewConnection, lang: TraceLanguage): CellDrawing[] {
  const cell = (text: string, state = false): CellDrawing => ({ text, state });
  // UDP's steps are calls (`recvfrom()`), and a reply not sent is no call.
  const steps =
    c.transport === 'udp'
      ? c.steps.map((s) => (s === 'drop' ? word('dropped', lang) : `${s}()`)).join(' ')
      : c.steps.join(' ');
  const remote = c.unix === undefined ? addressText(c.remote) : c.unix.path;
  const common = [cell(c.id), cell(remote), cell(steps), cell(`${c.bytesIn}/${c.bytesOut}`)];
  // No TCP states on a Unix socket: what it is, and who is at its other end, instead.
  if (c.unix !== undefined) return [...common, cell(word('unixSocket', lang)), cell(unixPeerText(c, lang))];
  if (c.transport === 'udp') {
    return [...common, cell(String(c.datagramsIn ?? 0)), cell(`${c.repliesOut ?? 0}/${c.dropped ?? 0}`)];
  }
  return [
    ...common,
    cell(kernelStateText(c.kernel.server, lang), true),
    cell(kernelStateText(c.kernel.client, lang), true),
  ];
}

/** What a row's text depends on: the row is redrawn only when this changes. */
export function rowKey(c: ViewConnection, lang: TraceLanguage): string {
  const peer = c.unix === undefined ? '' : JSON.stringify(c.unix.peer);
  return `${lang}|${c.updated}|${c.steps.length}|${c.bytesIn}|${c.bytesOut}|${c.kernel.server}|${c.kernel.client}|${c.datagramsIn ?? 0}|${c.repliesOut ?? 0}|${c.dropped ?? 0}|${peer}`;
}

/** The connections newest first (by the time each started), at most `limit`, with `selected` kept in. */
export function visibleRows(
  connections: Iterable<ViewConnection>,
  limit: number,
  selected?: string,
): ViewConnection[] {
  const all = [...connections].sort((a, b) => b.started - a.started);
  const shown = all.slice(0, limit);
  if (selected !== undefined && !shown.some((c) => c.id === selected)) {
    const s = all.find((c) => c.id === selected);
    if (s !== undefined) shown.push(s);
  }
  return shown;
}

/** The header's line of counters: TCP connections, or UDP datagrams and replies (never TCP words for UDP). */
export function statsText(view: PageView, lang: TraceLanguage): string {
  const s = view.stats;
  const r = view.rates;
  const parts: string[] = [];
  const ko = lang === 'ko';
  if (view.transport === 'udp') {
    const received = s?.accepted ?? view.counters?.datagrams;
    const replied = s?.outcomes.replied ?? view.counters?.replies;
    const dropped = s?.refused ?? view.counters?.dropped;
    if (received !== undefined) {
      parts.push(
        ko
          ? `${view.service ?? ''} 데이터그램 수신 ${received}, 응답 송신 ${replied ?? 0}, 전송률 제한으로 보내지 않은 응답 ${dropped ?? 0}`.trim()
          : `${view.service ? `${view.service}: ` : ''}datagrams received ${received}, replies sent ${replied ?? 0}, replies dropped by the rate limit ${dropped ?? 0}`,
      );
    }
    if (r)
      parts.push(ko ? `초당 데이터그램 ${r.accepted}` : `${r.accepted} datagrams ${word('perSecond', lang)}`);
  } else {
    if (s) {
      parts.push(
        ko
          ? `${s.service}: 수락 ${s.accepted}, 열린 연결 ${s.open}, 거부 ${s.refused}`
          : `${s.service}: accepted ${s.accepted}, open ${s.open}, refused ${s.refused}`,
      );
    }
    if (r)
      parts.push(ko ? `초당 연결 ${r.accepted}` : `${r.accepted} connections ${word('perSecond', lang)}`);
    if (view.listen) parts.push(`${word('acceptQueue', lang)} ${queueText(view.listen.acceptQueue, lang)}`);
  }
  if (view.leftOut) parts.push(word('sampled', lang));
  return parts.join(' · ');
}

/** One item of the sequence diagram: an arrow between the two lifelines, or a note at one (or both). */
export type SequenceItem =
  | { kind: 'msg'; from: ViewEnd; fin: boolean; text: string; payload?: string }
  | { kind: 'note' | 'state'; end: ViewEnd | 'both'; text: string };

function payloadOf(
  bytes: number | undefined,
  text: string | undefined,
  lang: TraceLanguage,
): { size: string; payload?: string } {
  const size = bytesText(bytes ?? 0, lang);
  return text ? { size, payload: `"${showText(text).slice(0, 60)}"` } : { size };
}

/**
 * The selected connection's sequence diagram: its events as arrows and notes, in the page's
 * language; the bytes' own text is kept apart (`payload`), as it is data, not the page's words.
 */
export function sequenceItems(c: ViewConnection, lang: TraceLanguage): SequenceItem[] {
  const ko = lang === 'ko';
  const items: SequenceItem[] = [];
  const msg = (from: ViewEnd, text: string, more: { fin?: boolean; payload?: string } = {}) => {
    const item: SequenceItem = { kind: 'msg', from, fin: more.fin ?? false, text };
    if (more.payload !== undefined) item.payload = more.payload;
    items.push(item);
  };
  const note = (end: ViewEnd | 'both', text: string) => items.push({ kind: 'note', end, text });
  let finSent = false;
  for (const e of c.events) {
    if (e.source === 'kernel') {
      items.push({
        kind: 'state',
        end: e.end ?? 'server',
        text: `${word('kernel', lang)} ${kernelStateText(e.state ?? 'unknown', lang)}`,
      });
      continue;
    }
    if (e.source === 'client') {
      if (e.action === 'close') note('client', ko ? '연결 종료 close()' : 'close()');
      else if (e.action === 'eof') note('client', ko ? 'read()가 0을 반환' : 'read() = 0');
      continue;
    }
    const { size, payload } = payloadOf(e.bytes, e.text, lang);
    const withPayload = payload === undefined ? {} : { payload };
    switch (e.action) {
      case 'accept':
        msg(
          'client',
          ko ? '연결의 요청 connect() → 연결요청에 대한 수락 accept() (4a)' : 'connect() → accept() (4a)',
        );
        break;
      case 'handshake':
        // TLS: between the accept and the data, both ways (ClientHello, ServerHello ... Finished).
        msg(
          'client',
          `${word('tlsHandshake', lang)} (4a): ${e.tls ?? '?'}${e.tlsResumed ? word('tlsResumed', lang) : ''}`,
        );
        break;
      case 'read':
        msg('client', `write() → read() ${size}`, withPayload);
        break;
      case 'write':
        msg('server', `write() ${size}`, withPayload);
        break;
      case 'recvfrom':
        msg('client', `sendto() → recvfrom() ${size}`, withPayload);
        break;
      case 'sendto':
        msg('server', `sendto() ${size}`, withPayload);
        break;
      case 'drop':
        note('server', ko ? '응답하지 않음 (전송률 제한)' : 'reply not sent (rate limit)');
        break;
      case 'eof':
        msg('client', ko ? 'FIN → read()가 0을 반환' : 'FIN → read() = 0', { fin: true });
        break;
      case 'shutdown':
        finSent = true;
        msg('server', 'shutdown(): FIN', { fin: true });
        break;
      case 'close': {
        if (!finSent && c.transport === 'tcp')
          msg('server', ko ? '연결종료 close(): FIN' : 'close(): FIN', { fin: true });
        finSent = true;
        const reason = e.reason && e.reason !== 'done' ? ` (${reasonText(e.reason, lang)})` : '';
        note('server', `${ko ? '연결종료 close()' : 'close()'}${reason}`);
        break;
      }
      case 'error':
        note('server', `${ko ? '오류' : 'error'} ${reasonText(e.reason ?? '', lang)}`);
        break;
    }
  }
  if (c.closedFirst) note('both', closedFirstText(c.closedFirst, lang));
  return items;
}

/** What the selected connection's drawing depends on: the diagram is redrawn only when this changes. */
export function sequenceKey(c: ViewConnection | undefined, lang: TraceLanguage): string {
  return c === undefined
    ? `${lang}|none`
    : `${lang}|${c.id}|${c.updated}|${c.events.length}|${c.closedFirst ?? ''}`;
}
