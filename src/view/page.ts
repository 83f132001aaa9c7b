/**
 * The live view's page: one HTML document with inline CSS, inline SVG and a small script, and
 * nothing loaded from anywhere else (no CDN, fonts or analytics: it works with no network). Kept
 * as a string module so that the bundled programs (dist/bin/*.cjs) carry it inside: there is no
 * asset file to find at run time.
 *
 * The diagrams are drawn as the lecture draws them. Every box has `data-step` (`tcp-server-4a`,
 * `tcp-client-2`, `udp-server-recvfrom`, ...) and, when lit for the selected connection,
 * `data-lit="true"`; each row of the connection list has `data-connection="<id>"`.
 */
import type { TraceLanguage } from '../trace/schema.js';

/** The page's words, in English and in the lecture's Korean. */
export const PAGE_WORDS = {
  title: { en: 'The lecture, live', ko: '소켓 통신 과정, 실시간' },
  tcpFlow: { en: 'TCP client/server flow', ko: 'TCP 클라이언트/서버 프로그램의 흐름' },
  udpFlow: { en: 'UDP client/server flow', ko: 'UDP 클라이언트/서버 프로그램의 흐름 - 참고' },
  server: { en: 'Server', ko: '서버' },
  client: { en: 'Client', ko: '클라이언트' },
  serverWord: { en: 'the server', ko: '서버가' },
  clientWord: { en: 'the client', ko: '클라이언트가' },
  s1: { en: 'create a TCP socket', ko: 'TCP 소켓의 생성' },
  s2: { en: 'assign IP and port', ko: 'IP와 PORT번호의 할당' },
  s3: { en: 'ready for connection requests', ko: '연결요청 가능상태로 변경' },
  s4: { en: 'repeat the following', ko: '다음을 반복적으로 수행' },
  s4a: { en: 'accept a connection request', ko: '연결요청에 대한 수락' },
  s4b: { en: 'send and receive data', ko: '데이터 송수신' },
  s4c: { en: 'close the connection', ko: '연결종료' },
  s5: { en: 'close', ko: '연결 종료' },
  c1: { en: 'create a TCP socket', ko: 'TCP 소켓의 생성' },
  c2: { en: 'request a connection', ko: '연결의 요청' },
  c3: { en: 'send and receive data', ko: '데이터 송수신' },
  c4: { en: 'close the connection', ko: '연결 종료' },
  u1: { en: 'create a UDP socket', ko: 'UDP 소켓의 생성' },
  u2: { en: 'assign IP and port', ko: 'IP와 PORT번호의 할당' },
  urecv: { en: 'receive a datagram', ko: '데이터 수신' },
  usend: { en: 'send a datagram', ko: '데이터 송신' },
  uclose: { en: 'close the socket', ko: '소켓 종료' },
  arrowConnect: { en: 'connection request', ko: '연결요청' },
  arrowData: { en: 'data', ko: '데이터 송수신' },
  arrowClose: { en: 'FIN: read() returns 0', ko: 'FIN: read()가 0을 반환' },
  arrowDatagram: { en: 'datagram', ko: '데이터그램' },
  loop: { en: 'step 4: again for the next client', ko: '4: 다음 클라이언트에 대해 반복' },
  connections: { en: 'Connections', ko: '연결 목록' },
  sequence: { en: 'Selected connection', ko: '선택한 연결' },
  none: { en: 'No connection yet: run a client.', ko: '아직 연결이 없습니다: 클라이언트를 실행하세요.' },
  run: { en: 'Run a client', ko: '클라이언트 실행' },
  export: { en: 'Mermaid export', ko: 'Mermaid 내보내기' },
  copy: { en: 'Copy', ko: '복사' },
  copied: { en: 'copied', ko: '복사됨' },
  kernel: { en: 'kernel', ko: '커널' },
  steps: { en: 'steps', ko: '단계' },
  bytes: { en: 'bytes in/out', ko: '바이트 수신/송신' },
  remote: { en: 'client', ko: '클라이언트' },
  id: { en: 'id', ko: '번호' },
  follow: { en: 'follow the newest', ko: '최신 연결 따라가기' },
  seenByServer: {
    en: 'client column as the server and the kernel saw it (the client runs elsewhere)',
    ko: '클라이언트 열: 서버와 커널이 본 대로 (클라이언트는 다른 곳에서 실행됨)',
  },
  seenByClient: {
    en: 'client column from the client itself (run in this process)',
    ko: '클라이언트 열: 이 프로세스에서 실행한 클라이언트 자신의 기록',
  },
  acceptQueue: { en: 'accept queue', ko: '연결 대기 큐' },
  combined: { en: 'in Node: one call, server.listen()', ko: 'Node에서는 한 번의 호출 server.listen()' },
  combinedUdp: { en: 'in Node: one call, socket.bind()', ko: 'Node에서는 한 번의 호출 socket.bind()' },
  closedFirst: { en: 'closed first', ko: '먼저 닫음' },
  unknownNote: {
    en: '"unknown": the kernel of this machine does not say (a client on another host, or no /proc). "gone": the kernel has no row for that end any more.',
    ko: '"unknown": 이 컴퓨터의 커널이 알려 주지 않음 (다른 호스트의 클라이언트이거나 /proc 없음). "gone": 커널에 그 끝의 항목이 더 이상 없음.',
  },
  perSecond: { en: 'per second', ko: '초당' },
  sampled: { en: 'updates sample the busiest moments', ko: '부하가 클 때는 일부 연결만 표시' },
} as const satisfies Record<string, Record<TraceLanguage, string>>;

/** What the page is rendered with. */
export interface PageOptions {
  lang: TraceLanguage;
  program: string;
  /** Which flow to draw before the first snapshot arrives. @default 'tcp' */
  transport?: 'tcp' | 'udp';
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

type WordKey = keyof typeof PAGE_WORDS;

function box(
  lang: TraceLanguage,
  step: string,
  x: number,
  y: number,
  call: string,
  words: WordKey,
  number: string,
  width = 240,
): string {
  return `<g class="box" data-step="${step}" transform="translate(${x},${y})">
<rect width="${width}" height="52" rx="6"/>
<text x="10" y="18" class="call">${escapeHtml(number)} ${escapeHtml(call)}</text>
<text x="10" y="33" data-i18n="${words}">${escapeHtml(PAGE_WORDS[words][lang])}</text>
<text x="10" y="47" class="detail" data-detail="${step}"></text>
</g>`;
}

function arrow(
  name: string,
  [x1, y1, x2, y2]: readonly [number, number, number, number],
  words: WordKey,
  lang: TraceLanguage,
  marker = 'head',
): string {
  const mx = (x1 + x2) / 2;
  const my = (y1 + y2) / 2 - 6;
  return `<g class="arrow" data-arrow="${name}"><line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" marker-end="url(#${marker})"/>
<text x="${mx}" y="${my}" text-anchor="middle" data-i18n="${words}">${escapeHtml(PAGE_WORDS[words][lang])}</text></g>`;
}

function tcpDiagram(lang: TraceLanguage, hidden: boolean): string {
  const sx = 470;
  const cx = 20;
  return `<svg id="tcp-diagram" viewBox="0 0 760 560" role="img" aria-labelledby="tcp-title"${hidden ? ' hidden' : ''}>
<defs><marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>
<text x="${cx + 120}" y="18" text-anchor="middle" class="column" data-i18n="client">${PAGE_WORDS.client[lang]}</text>
<text x="${sx + 120}" y="18" text-anchor="middle" class="column" data-i18n="server">${PAGE_WORDS.server[lang]}</text>
${box(lang, 'tcp-server-1', sx, 30, 'socket()', 's1', '1.')}
${box(lang, 'tcp-server-2', sx, 94, 'bind()', 's2', '2.')}
${box(lang, 'tcp-server-3', sx, 158, 'listen()', 's3', '3.')}
<g class="box group" data-step="tcp-server-4" transform="translate(${sx - 10},216)"><rect width="280" height="236" rx="8"/>
<text x="10" y="16" class="call">4. <tspan data-i18n="s4">${PAGE_WORDS.s4[lang]}</tspan></text></g>
${box(lang, 'tcp-server-4a', sx, 240, 'accept()', 's4a', '4a.')}
${box(lang, 'tcp-server-4b', sx, 316, 'read()/write()', 's4b', '4b.')}
${box(lang, 'tcp-server-4c', sx, 392, 'close()', 's4c', '4c.')}
<path class="loop" d="M${sx + 250},418 C${sx + 285},418 ${sx + 285},266 ${sx + 250},266" marker-end="url(#head)"/>
<text x="${sx + 262}" y="470" text-anchor="end" class="detail" data-i18n="loop">${PAGE_WORDS.loop[lang]}</text>
${box(lang, 'tcp-server-5', sx, 484, 'close()', 's5', '5.')}
${box(lang, 'tcp-client-1', cx, 30, 'socket()', 'c1', '1.')}
${box(lang, 'tcp-client-2', cx, 240, 'connect()', 'c2', '2.')}
${box(lang, 'tcp-client-3', cx, 316, 'read()/write()', 'c3', '3.')}
${box(lang, 'tcp-client-4', cx, 392, 'close()', 'c4', '4.')}
${arrow('connect', [cx + 240, 266, sx, 266], 'arrowConnect', lang)}
${arrow('data', [cx + 240, 342, sx, 342], 'arrowData', lang)}
${arrow('close', [cx + 240, 418, sx, 418], 'arrowClose', lang)}
<text x="${cx}" y="475" class="kernel" id="kernel-client"></text>
<text x="${cx}" y="495" class="detail" id="client-source"></text>
<text x="${sx}" y="553" class="kernel" id="kernel-server"></text>
</svg>`;
}

function udpDiagram(lang: TraceLanguage, hidden: boolean): string {
  const sx = 470;
  const cx = 20;
  return `<svg id="udp-diagram" viewBox="0 0 760 420" role="img"${hidden ? ' hidden' : ''}>
<defs><marker id="uhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>
<text x="${cx + 120}" y="18" text-anchor="middle" class="column" data-i18n="client">${PAGE_WORDS.client[lang]}</text>
<text x="${sx + 120}" y="18" text-anchor="middle" class="column" data-i18n="server">${PAGE_WORDS.server[lang]}</text>
${box(lang, 'udp-server-socket', sx, 30, 'socket()', 'u1', '1.')}
${box(lang, 'udp-server-bind', sx, 94, 'bind()', 'u2', '2.')}
${box(lang, 'udp-server-recvfrom', sx, 170, 'recvfrom()', 'urecv', '3.')}
${box(lang, 'udp-server-sendto', sx, 246, 'sendto()', 'usend', '3.')}
<path class="loop" d="M${sx + 250},272 C${sx + 285},272 ${sx + 285},196 ${sx + 250},196" marker-end="url(#uhead)"/>
${box(lang, 'udp-server-close', sx, 340, 'close()', 'uclose', '4.')}
${box(lang, 'udp-client-socket', cx, 30, 'socket()', 'u1', '1.')}
${box(lang, 'udp-client-sendto', cx, 170, 'sendto()', 'usend', '2.')}
${box(lang, 'udp-client-recvfrom', cx, 246, 'recvfrom()', 'urecv', '3.')}
${box(lang, 'udp-client-close', cx, 340, 'close()', 'uclose', '4.')}
${arrow('datagram', [cx + 240, 196, sx, 196], 'arrowDatagram', lang, 'uhead')}
<g class="arrow" data-arrow="reply"><line x1="${sx}" y1="272" x2="${cx + 240}" y2="272" marker-end="url(#uhead)"/>
<text x="${(sx + cx + 240) / 2}" y="266" text-anchor="middle" id="reply-label" data-i18n="arrowDatagram">${PAGE_WORDS.arrowDatagram[lang]}</text></g>
<text x="${cx}" y="410" class="detail" id="client-source"></text>
</svg>`;
}

const STYLE = `
:root { color-scheme: light; font-family: system-ui, sans-serif; }
body { margin: 0; padding: 12px 18px; background: #fafafa; color: #222; }
header { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
h1 { font-size: 1.25rem; margin: 0 12px 0 0; }
h2 { font-size: 1rem; margin: 14px 0 6px; }
button { font: inherit; padding: 4px 10px; border: 1px solid #888; border-radius: 4px; background: #fff; cursor: pointer; }
button:hover { background: #eef; }
#stats { font-size: .85rem; color: #444; }
main { display: grid; grid-template-columns: minmax(520px, 760px) minmax(360px, 1fr); gap: 18px; }
[hidden] { display: none !important; }
svg { width: 100%; height: auto; background: #fff; border: 1px solid #ddd; border-radius: 6px; }
.box rect { fill: #f4f4f4; stroke: #999; }
.box.group rect { fill: none; stroke: #bbb; stroke-dasharray: 4 3; }
.box[data-lit="true"] rect { fill: #ffe9a8; stroke: #c98a00; stroke-width: 2; }
.box.group[data-lit="true"] rect { fill: none; stroke: #c98a00; }
.box[data-lit="true"][data-inferred="true"] rect { fill: #fff5d6; stroke-dasharray: 5 3; }
.box text { font-size: 12px; }
.box text.call { font-weight: 600; font-family: ui-monospace, monospace; }
text.detail { font-size: 10.5px; fill: #555; }
text.column { font-weight: 700; font-size: 14px; }
text.kernel { font-size: 12px; font-family: ui-monospace, monospace; fill: #0a5; }
.arrow line, path.loop { stroke: #aaa; stroke-width: 1.5; fill: none; }
.arrow text { font-size: 11px; fill: #777; }
.arrow[data-lit="true"] line { stroke: #c98a00; stroke-width: 2.5; }
.arrow[data-lit="true"] text { fill: #333; }
marker path { fill: #888; }
table { border-collapse: collapse; width: 100%; font-size: .8rem; background: #fff; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #eee; white-space: nowrap; }
tr[data-connection] { cursor: pointer; }
tr[data-selected="true"] { background: #ffe9a8; }
#list { max-height: 260px; overflow-y: auto; border: 1px solid #ddd; border-radius: 6px; }
#mermaid { background: #fff; border: 1px solid #ddd; padding: 6px; font-size: .75rem; max-height: 180px; overflow: auto; white-space: pre; }
.state { font-family: ui-monospace, monospace; }
#note, #run-result { font-size: .8rem; color: #555; }
#sequence text { font-size: 11px; }
#sequence .life { stroke: #999; stroke-dasharray: 3 3; }
#sequence .msg { stroke: #333; stroke-width: 1.3; }
#sequence .fin { stroke: #b33; }
#sequence .ks { fill: #0a5; font-family: ui-monospace, monospace; }
`;

// The page's script: plain JavaScript for the browser, no framework. It keeps the connections the
// server sends (snapshot, then updates), and draws the selected one.
const SCRIPT = String.raw`
(() => {
  'use strict';
  const WORDS = JSON.parse(document.getElementById('words').textContent);
  const MAX = 300;
  let lang = document.documentElement.lang === 'ko' ? 'ko' : 'en';
  let view = { connections: [], listeners: [] };
  const connections = new Map();
  let selected;
  let follow = true;
  const $ = (id) => document.getElementById(id);
  const w = (key) => (WORDS[key] ? WORDS[key][lang] : key);
  const addr = (a) => (a && a.address ? (a.address.includes(':') ? '[' + a.address + ']:' + a.port : a.address + ':' + a.port) : '?');
  const show = (text) => String(text).replace(/\0/g, '\\0').replace(/\r/g, '\\r').replace(/\n/g, '\\n');

  function applyLanguage() {
    document.documentElement.lang = lang;
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = w(el.dataset.i18n);
    $('lang').textContent = lang === 'ko' ? 'English' : '한국어';
    render();
  }

  function merge(list) {
    for (const c of list) {
      connections.delete(c.id);
      connections.set(c.id, c);
    }
    while (connections.size > MAX) connections.delete(connections.keys().next().value);
  }

  // The list's order: by the time each connection started, the newest first.
  function newestFirst() {
    return [...connections.values()].sort((a, b) => b.started - a.started);
  }

  function listener() {
    return (view.listeners || [])[0];
  }

  function light(step, on, inferred) {
    for (const el of document.querySelectorAll('[data-step="' + step + '"]')) {
      if (on) el.setAttribute('data-lit', 'true');
      else el.removeAttribute('data-lit');
      if (inferred && on) el.setAttribute('data-inferred', 'true');
      else el.removeAttribute('data-inferred');
    }
  }
  function detail(step, text) {
    const el = document.querySelector('[data-detail="' + step + '"]');
    if (el) el.textContent = text || '';
  }
  function arrowLit(name, on) {
    const el = document.querySelector('[data-arrow="' + name + '"]');
    if (!el) return;
    if (on) el.setAttribute('data-lit', 'true');
    else el.removeAttribute('data-lit');
  }

  function renderTcp(c) {
    const l = listener();
    const lsteps = l ? l.steps : [];
    const listening = !!view.listen || lsteps.includes('3');
    const accepted = !!c && c.steps.includes('4a');
    for (const s of ['1', '2', '3']) light('tcp-server-' + s, lsteps.includes(s) || listening || accepted);
    const combined = l && l.combinedIn ? w('combined') : l && l.fd !== undefined ? 'fd ' + l.fd : '';
    detail('tcp-server-1', combined);
    detail('tcp-server-2', view.listen ? addr(view.listen) : l && l.local ? addr(l.local) : '');
    const queue = view.listen ? w('acceptQueue') + ' ' + view.listen.acceptQueue : '';
    detail('tcp-server-3', (l && l.backlog ? 'backlog ' + l.backlog + ', ' : '') + queue);
    light('tcp-server-5', lsteps.includes('5'));
    const steps = c ? c.steps : [];
    const cs = c ? c.clientSteps : [];
    const inferred = !!c && c.clientSource === 'server';
    for (const s of ['4a', '4b', '4c']) light('tcp-server-' + s, steps.includes(s));
    light('tcp-server-4', steps.length > 0);
    for (const s of ['1', '2', '3', '4']) light('tcp-client-' + s, cs.includes(s), inferred);
    detail('tcp-server-4a', c ? '#' + c.id + ' ' + w('remote') + ' ' + addr(c.remote) : '');
    detail('tcp-server-4b', c ? c.bytesIn + ' / ' + c.bytesOut + ' B' : '');
    detail('tcp-server-4c', c && !c.open ? c.reason || 'done' : '');
    detail('tcp-client-2', c ? addr(c.remote) + ' \u2192 ' + addr(c.local) : '');
    detail('tcp-client-3', c ? c.bytesOut + ' / ' + c.bytesIn + ' B' : '');
    detail('tcp-client-4', c && c.closedFirst ? w(c.closedFirst + 'Word') + ' ' + w('closedFirst') : '');
    arrowLit('connect', accepted);
    arrowLit('data', !!c && c.bytesIn + c.bytesOut > 0);
    arrowLit('close', !!c && (c.steps.includes('4c') || c.events.some((e) => e.action === 'eof')));
    $('kernel-server').textContent = c ? w('kernel') + ': ' + c.kernel.server : '';
    $('kernel-client').textContent = c ? w('kernel') + ': ' + c.kernel.client : '';
    $('client-source').textContent = c ? w(inferred ? 'seenByServer' : 'seenByClient') : '';
  }

  function renderUdp(c) {
    const l = listener();
    const lsteps = l ? l.steps : [];
    light('udp-server-socket', lsteps.includes('socket') || !!view.listen);
    light('udp-server-bind', lsteps.includes('bind') || !!view.listen);
    light('udp-server-close', lsteps.includes('close'));
    detail('udp-server-socket', l && l.combinedIn ? w('combinedUdp') : '');
    detail('udp-server-bind', view.listen ? addr(view.listen) : '');
    const steps = c ? c.steps : [];
    const cs = c ? c.clientSteps : [];
    const inferred = !!c && c.clientSource === 'server';
    light('udp-server-recvfrom', steps.includes('recvfrom'));
    light('udp-server-sendto', steps.includes('sendto'));
    for (const s of ['socket', 'sendto', 'recvfrom', 'close']) light('udp-client-' + s, cs.includes(s), inferred);
    detail('udp-server-recvfrom', c ? c.bytesIn + ' B ' + w('remote') + ' ' + addr(c.remote) : '');
    detail('udp-server-sendto', c ? c.bytesOut + ' B' + (c.dropped ? ', dropped ' + c.dropped + ' (rate limit)' : '') : '');
    arrowLit('datagram', steps.includes('recvfrom'));
    arrowLit('reply', steps.includes('sendto'));
    $('client-source').textContent = c ? w(inferred ? 'seenByServer' : 'seenByClient') : '';
  }

  // Rows are kept and updated in place: under load the list changes every update, and rebuilding
  // hundreds of rows each time would cost the browser (on the same machine, the server) dearly.
  const rowEls = new Map();
  function renderList() {
    const body = $('rows');
    const rows = newestFirst();
    const keep = new Set();
    let previous = null;
    for (const c of rows) {
      keep.add(c.id);
      let tr = rowEls.get(c.id);
      if (!tr) {
        tr = document.createElement('tr');
        tr.dataset.connection = c.id;
        for (let i = 0; i < 6; i++) {
          const td = document.createElement('td');
          if (i >= 4) td.className = 'state';
          tr.appendChild(td);
        }
        rowEls.set(c.id, tr);
      }
      // UDP has no connection state for the kernel to report.
      const udp = c.transport === 'udp';
      const cells = [c.id, addr(c.remote), c.steps.join(' '), c.bytesIn + '/' + c.bytesOut, udp ? '\u2014' : c.kernel.server, udp ? '\u2014' : c.kernel.client];
      cells.forEach((text, i) => {
        const td = tr.children[i];
        if (td.textContent !== text) td.textContent = text;
      });
      if (selected === c.id) tr.dataset.selected = 'true';
      else delete tr.dataset.selected;
      const expected = previous ? previous.nextSibling : body.firstChild;
      if (expected !== tr) body.insertBefore(tr, expected);
      previous = tr;
    }
    for (const [id, tr] of rowEls) {
      if (!keep.has(id)) {
        tr.remove();
        rowEls.delete(id);
      }
    }
    $('empty').hidden = rows.length > 0;
  }

  const NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, text) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function payload(e) {
    const n = (e.bytes || 0) + ' B';
    return e.text ? n + ': "' + show(e.text).slice(0, 60) + '"' : n;
  }

  function renderSequence(c) {
    const svg = $('sequence');
    svg.textContent = '';
    if (!c) {
      svg.setAttribute('viewBox', '0 0 600 40');
      return;
    }
    const CX = 110;
    const SX = 490;
    const items = [];
    let finSent = false;
    for (const e of c.events) {
      if (e.source === 'kernel') {
        items.push({ kind: 'state', end: e.end, text: w('kernel') + ' ' + e.state });
        continue;
      }
      if (e.source === 'client') {
        if (e.action === 'close') items.push({ kind: 'note', end: 'client', text: 'close()' });
        else if (e.action === 'eof') items.push({ kind: 'note', end: 'client', text: 'read() = 0' });
        continue;
      }
      const a = e.action;
      if (a === 'accept') items.push({ kind: 'msg', from: 'client', text: 'connect() \u2192 accept() (4a)' });
      else if (a === 'read') items.push({ kind: 'msg', from: 'client', text: 'write() \u2192 read() ' + payload(e) });
      else if (a === 'write') items.push({ kind: 'msg', from: 'server', text: 'write() ' + payload(e) });
      else if (a === 'recvfrom') items.push({ kind: 'msg', from: 'client', text: 'sendto() \u2192 recvfrom() ' + payload(e) });
      else if (a === 'sendto') items.push({ kind: 'msg', from: 'server', text: 'sendto() ' + payload(e) });
      else if (a === 'drop') items.push({ kind: 'note', end: 'server', text: 'reply dropped (rate limit)' });
      else if (a === 'eof') items.push({ kind: 'msg', from: 'client', fin: true, text: 'FIN \u2192 read() = 0' });
      else if (a === 'shutdown') {
        finSent = true;
        items.push({ kind: 'msg', from: 'server', fin: true, text: 'shutdown(): FIN' });
      } else if (a === 'close') {
        if (!finSent) items.push({ kind: 'msg', from: 'server', fin: true, text: 'close(): FIN' });
        finSent = true;
        items.push({ kind: 'note', end: 'server', text: 'close()' + (e.reason && e.reason !== 'done' ? ' (' + e.reason + ')' : '') });
      }
    }
    if (c.closedFirst) items.push({ kind: 'note', end: 'both', text: w(c.closedFirst + 'Word') + ' ' + w('closedFirst') });
    const height = 50 + items.length * 24 + 10;
    svg.setAttribute('viewBox', '0 0 600 ' + height);
    svg.appendChild(el('text', { x: CX, y: 16, 'text-anchor': 'middle', 'font-weight': 700 }, w('client') + ' ' + addr(c.remote)));
    svg.appendChild(el('text', { x: SX, y: 16, 'text-anchor': 'middle', 'font-weight': 700 }, w('server') + ' ' + addr(c.local)));
    svg.appendChild(el('line', { x1: CX, y1: 24, x2: CX, y2: height, class: 'life' }));
    svg.appendChild(el('line', { x1: SX, y1: 24, x2: SX, y2: height, class: 'life' }));
    let y = 44;
    for (const it of items) {
      if (it.kind === 'msg') {
        const x1 = it.from === 'client' ? CX : SX;
        const x2 = it.from === 'client' ? SX : CX;
        svg.appendChild(el('line', { x1, y1: y, x2, y2: y + 6, class: 'msg' + (it.fin ? ' fin' : ''), 'marker-end': 'url(#seqhead)' }));
        svg.appendChild(el('text', { x: (CX + SX) / 2, y: y - 2, 'text-anchor': 'middle' }, it.text));
      } else {
        const x = it.end === 'client' ? CX : it.end === 'server' ? SX : (CX + SX) / 2;
        const anchor = it.end === 'client' ? 'end' : it.end === 'server' ? 'start' : 'middle';
        const dx = it.end === 'client' ? -6 : it.end === 'server' ? 6 : 0;
        svg.appendChild(el('text', { x: x + dx, y: y + 4, 'text-anchor': anchor, class: it.kind === 'state' ? 'ks' : '' }, it.text));
      }
      y += 24;
    }
    const defs = el('defs', {});
    const marker = el('marker', { id: 'seqhead', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' });
    marker.appendChild(el('path', { d: 'M0,0L10,5L0,10z' }));
    defs.appendChild(marker);
    svg.appendChild(defs);
  }

  function renderStats() {
    const s = view.stats;
    const r = view.rates;
    const parts = [];
    if (s) parts.push(s.service + ': accepted ' + s.accepted + ', open ' + s.open + ', refused ' + s.refused);
    if (r) parts.push(r.accepted + ' ' + w('perSecond'));
    if (view.listen && view.transport === 'tcp') parts.push(w('acceptQueue') + ' ' + view.listen.acceptQueue);
    if (view.leftOut) parts.push(w('sampled'));
    $('stats').textContent = parts.join(' \u00b7 ');
  }

  // The export is fetched at most once a second (under load the selection changes all the time).
  let exported = '';
  let exportAt = 0;
  let exportTimer;
  function renderExport(c) {
    if (!c) {
      $('mermaid').textContent = '';
      return;
    }
    const key = c.id + '|' + c.updated + '|' + lang;
    if (key === exported) return;
    const wait = exportAt + 1000 - Date.now();
    if (wait > 0) {
      if (!exportTimer) exportTimer = setTimeout(() => {
        exportTimer = undefined;
        render();
      }, wait);
      return;
    }
    exported = key;
    exportAt = Date.now();
    fetch('mermaid?id=' + encodeURIComponent(c.id) + '&lang=' + lang)
      .then((r) => (r.ok ? r.text() : ''))
      .then((t) => {
        if (t) $('mermaid').textContent = t;
      })
      .catch(() => {});
  }

  function render() {
    if (follow && connections.size > 0) selected = newestFirst()[0].id;
    const c = selected === undefined ? undefined : connections.get(selected);
    if (view.transport === 'udp') renderUdp(c);
    else renderTcp(c);
    renderList();
    renderSequence(c);
    renderStats();
    renderExport(c);
    $('follow').checked = follow;
  }

  // At most 4 renders a second, and none while the page is hidden: the data keeps coming in.
  let pending = false;
  let renderedAt = 0;
  function schedule() {
    if (pending) return;
    pending = true;
    setTimeout(() => {
      requestAnimationFrame(() => {
        pending = false;
        renderedAt = Date.now();
        render();
      });
    }, Math.max(0, renderedAt + 250 - Date.now()));
  }
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) schedule();
  });

  $('rows').addEventListener('click', (event) => {
    const tr = event.target.closest('tr[data-connection]');
    if (!tr) return;
    selected = tr.dataset.connection;
    follow = false;
    render();
  });
  $('follow').addEventListener('change', (event) => {
    follow = event.target.checked;
    render();
  });
  $('lang').addEventListener('click', () => {
    lang = lang === 'ko' ? 'en' : 'ko';
    applyLanguage();
  });
  $('copy').addEventListener('click', () => {
    const text = $('mermaid').textContent;
    const done = () => {
      $('copy-state').textContent = w('copied');
    };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(done, () => {});
    else {
      const range = document.createRange();
      range.selectNodeContents($('mermaid'));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      document.execCommand('copy');
      done();
    }
  });
  $('run').addEventListener('click', () => {
    $('run-result').textContent = '\u2026';
    follow = true;
    fetch('run', { headers: { 'X-Socket-Steps': 'run' } })
      .then((r) => r.text())
      .then((t) => {
        $('run-result').textContent = show(t.trim());
      })
      .catch((e) => {
        $('run-result').textContent = String(e);
      });
  });

  const source = new EventSource('events');
  source.addEventListener('snapshot', (event) => {
    view = JSON.parse(event.data);
    connections.clear();
    merge([...view.connections].reverse());
    document.body.dataset.transport = view.transport;
    $('tcp-title').dataset.i18n = view.transport === 'udp' ? 'udpFlow' : 'tcpFlow';
    $('tcp-title').textContent = w($('tcp-title').dataset.i18n);
    // SVG elements have no hidden property: the attribute, and the style rule for it.
    $('tcp-diagram').toggleAttribute('hidden', view.transport !== 'tcp');
    $('udp-diagram').toggleAttribute('hidden', view.transport !== 'udp');
    $('run').hidden = !view.client;
    $('run').dataset.client = view.client || '';
    $('run-label').textContent = view.client ? ' ' + view.client : '';
    document.body.dataset.ready = 'true';
    schedule();
  });
  source.addEventListener('update', (event) => {
    const u = JSON.parse(event.data);
    merge(u.connections);
    for (const k of ['counters', 'stats', 'rates', 'listen', 'kernel', 'listeners', 'leftOut']) if (u[k] !== undefined) view[k] = u[k];
    schedule();
  });
  applyLanguage();
})();
`;

/** The page, in `lang` (the toggle switches on the page itself). */
export function renderPage({ lang, program, transport = 'tcp' }: PageOptions): string {
  const flow = transport === 'udp' ? 'udpFlow' : 'tcpFlow';
  const words = JSON.stringify(PAGE_WORDS).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(program)}: ${escapeHtml(PAGE_WORDS.title[lang])}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1><span data-i18n="title">${PAGE_WORDS.title[lang]}</span> · ${escapeHtml(program)}</h1>
<button id="run" type="button" hidden><span data-i18n="run">${PAGE_WORDS.run[lang]}</span><span id="run-label"></span></button>
<span id="run-result"></span>
<button id="lang" type="button"></button>
<span id="stats"></span>
</header>
<main>
<section>
<h2 data-i18n="${flow}" id="tcp-title">${PAGE_WORDS[flow][lang]}</h2>
${tcpDiagram(lang, transport !== 'tcp')}
${udpDiagram(lang, transport !== 'udp')}
<p id="note" data-i18n="unknownNote">${PAGE_WORDS.unknownNote[lang]}</p>
</section>
<section>
<h2><span data-i18n="connections">${PAGE_WORDS.connections[lang]}</span>
<label><input id="follow" type="checkbox" checked> <span data-i18n="follow">${PAGE_WORDS.follow[lang]}</span></label></h2>
<div id="list"><table><thead><tr><th data-i18n="id">${PAGE_WORDS.id[lang]}</th><th data-i18n="remote">${PAGE_WORDS.remote[lang]}</th><th data-i18n="steps">${PAGE_WORDS.steps[lang]}</th><th data-i18n="bytes">${PAGE_WORDS.bytes[lang]}</th><th><span data-i18n="kernel">${PAGE_WORDS.kernel[lang]}</span>: <span data-i18n="server">${PAGE_WORDS.server[lang]}</span></th><th><span data-i18n="kernel">${PAGE_WORDS.kernel[lang]}</span>: <span data-i18n="client">${PAGE_WORDS.client[lang]}</span></th></tr></thead>
<tbody id="rows"></tbody></table>
<p id="empty" data-i18n="none">${PAGE_WORDS.none[lang]}</p></div>
<h2 data-i18n="sequence">${PAGE_WORDS.sequence[lang]}</h2>
<svg id="sequence" viewBox="0 0 600 40"></svg>
<h2><span data-i18n="export">${PAGE_WORDS.export[lang]}</span> <button id="copy" type="button" data-i18n="copy">${PAGE_WORDS.copy[lang]}</button> <span id="copy-state"></span></h2>
<pre id="mermaid"></pre>
</section>
</main>
<script type="application/json" id="words">${words}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
