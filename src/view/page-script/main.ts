/**
 * The live page's script, for the browser (bundled by scripts/bundle-page.js into the string that
 * src/view/page.ts inlines). It keeps what the server sends (a snapshot, then updates) and draws
 * the selected connection with the decisions of draw.ts. Its own work stays bounded however busy
 * the server is: at most {@link MAX_RENDERS_PER_SECOND} renders a second (2 while the server is
 * busy), each in an animation frame and none while the page is hidden; at most MAX_ROWS rows in
 * the list; only what changed is written, and nothing reads the layout back.
 */

import { formatHexdump } from '../../trace/hexdump.js';
import type { ViewConnection } from '../state.js';
import {
  type ArrowDrawing,
  addressText,
  type BoxDrawing,
  kernelLine,
  MAX_ROWS,
  type PageView,
  rowCells,
  rowKey,
  sequenceItems,
  sequenceKey,
  showText,
  statsText,
  tableHeads,
  tcpArrows,
  tcpBoxes,
  udpArrows,
  udpBoxes,
  visibleRows,
} from './draw.js';
import { PAGE_WORDS, type WordKey, word } from './words.js';

type Lang = 'en' | 'ko';

// The server keeps its newest 300; the page keeps as many, and shows at most MAX_ROWS of them.
const MAX_CONNECTIONS = 300;
const MAX_RENDERS_PER_SECOND = 4;
// While the server is busy (the view says `busy`): the page cannot follow thousands of connections
// a second, and on a small machine what it draws is taken from the server.
const BUSY_RENDERS_PER_SECOND = 2;
const EXPORT_INTERVAL_MS = 1000;
const SVG_NS = 'http://www.w3.org/2000/svg';

let lang: Lang = document.documentElement.lang === 'ko' ? 'ko' : 'en';
let view: PageView = { transport: document.body.dataset.transport === 'udp' ? 'udp' : 'tcp' };
const connections = new Map<string, ViewConnection>();
let selected: string | undefined;
let follow = true;
let renders = 0;

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el;
}

function isWord(key: string | undefined): key is WordKey {
  return key !== undefined && Object.hasOwn(PAGE_WORDS, key);
}

// Writes an attribute or text only when it differs: an unchanged DOM costs the browser nothing.
function setAttr(el: Element, name: string, value: string | undefined): void {
  if (value === undefined) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}
function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

function merge(list: readonly ViewConnection[]): void {
  for (const c of list) {
    connections.delete(c.id);
    connections.set(c.id, c);
  }
  while (connections.size > MAX_CONNECTIONS) {
    const oldest = connections.keys().next().value;
    if (oldest === undefined) break;
    connections.delete(oldest);
  }
}

function newest(): ViewConnection | undefined {
  let best: ViewConnection | undefined;
  for (const c of connections.values()) if (best === undefined || c.started > best.started) best = c;
  return best;
}

// The diagrams' elements, found once.
const boxes = new Map<string, Element[]>();
const details = new Map<string, Element>();
const arrows = new Map<string, Element>();
for (const el of document.querySelectorAll('[data-step]')) {
  const step = el.getAttribute('data-step') ?? '';
  boxes.set(step, [...(boxes.get(step) ?? []), el]);
}
for (const el of document.querySelectorAll('[data-detail]'))
  details.set(el.getAttribute('data-detail') ?? '', el);
for (const el of document.querySelectorAll('[data-arrow]')) {
  arrows.set(`${el.getAttribute('data-arrow')}|${el.getAttribute('data-from')}`, el);
}

function drawBoxes(list: readonly BoxDrawing[]): void {
  for (const b of list) {
    for (const el of boxes.get(b.step) ?? []) {
      setAttr(el, 'data-lit', b.lit ? 'true' : undefined);
      setAttr(el, 'data-inferred', b.inferred ? 'true' : undefined);
    }
    const d = details.get(b.step);
    if (d !== undefined) setText(d, b.detail);
  }
}

// The two FIN rows of the TCP diagram (y of the line; the label above the upper, below the lower).
const FIN_ROWS = [
  { y: 410, label: -5 },
  { y: 432, label: 14 },
];

function drawArrows(list: readonly ArrowDrawing[]): void {
  for (const a of list) {
    const el = arrows.get(`${a.arrow}|${a.from}`);
    if (el === undefined) continue;
    setAttr(el, 'data-lit', a.lit ? 'true' : undefined);
    const label = el.querySelector('text');
    if (label !== null) setText(label, a.label);
    if (a.arrow === 'fin') {
      const row = FIN_ROWS[a.first ? 0 : 1] ?? { y: 410, label: -5 };
      setAttr(el, 'transform', `translate(0,${row.y})`);
      setAttr(el, 'data-first', a.first && a.lit ? 'true' : undefined);
      if (label !== null) setAttr(label, 'y', String(row.label));
    }
  }
}

function selectedConnection(): ViewConnection | undefined {
  return selected === undefined ? undefined : connections.get(selected);
}

function renderDiagram(c: ViewConnection | undefined): void {
  if (view.transport === 'udp') {
    drawBoxes(udpBoxes(view, c, lang));
    drawArrows(udpArrows(c, lang));
  } else {
    drawBoxes(tcpBoxes(view, c, lang));
    drawArrows(tcpArrows(c, lang));
    setText($('kernel-server'), kernelLine(c, 'server', lang));
    setText($('kernel-client'), kernelLine(c, 'client', lang));
  }
  const source =
    c === undefined ? '' : word(c.clientSource === 'server' ? 'seenByServer' : 'seenByClient', lang);
  for (const el of document.querySelectorAll('.client-source')) setText(el, source);
}

// Rows are kept and updated in place, each only when what it shows changed.
const rowEls = new Map<string, { tr: HTMLTableRowElement; key: string }>();
let shownIds = '';
function renderList(): void {
  const body = $('rows');
  const rows = visibleRows(connections.values(), MAX_ROWS, selected);
  const keep = new Set<string>();
  let previous: Element | null = null;
  for (const c of rows) {
    keep.add(c.id);
    let row = rowEls.get(c.id);
    if (row === undefined) {
      const tr = document.createElement('tr');
      tr.dataset.connection = c.id;
      for (let i = 0; i < 6; i++) tr.appendChild(document.createElement('td'));
      row = { tr, key: '' };
      rowEls.set(c.id, row);
    }
    const key = rowKey(c, lang);
    if (row.key !== key) {
      row.key = key;
      rowCells(c, lang).forEach((cell, i) => {
        const td = row.tr.children[i];
        if (td === undefined) return;
        setText(td, cell.text);
        setAttr(td, 'class', cell.state ? 'state' : undefined);
      });
    }
    setAttr(row.tr, 'data-selected', selected === c.id ? 'true' : undefined);
    const expected: Element | null = previous === null ? body.firstElementChild : previous.nextElementSibling;
    if (expected !== row.tr) body.insertBefore(row.tr, expected);
    previous = row.tr;
  }
  for (const [id, row] of rowEls) {
    if (!keep.has(id)) {
      row.tr.remove();
      rowEls.delete(id);
    }
  }
  const ids = `${rows.length}`;
  if (ids !== shownIds) {
    shownIds = ids;
    $('empty').hidden = rows.length > 0;
    $('more').hidden = connections.size <= MAX_ROWS;
  }
}

function svg(name: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

let drawnSequence = '';
function renderSequence(c: ViewConnection | undefined): void {
  const key = sequenceKey(c, lang);
  if (key === drawnSequence) return;
  drawnSequence = key;
  const box = $('sequence');
  box.textContent = '';
  if (c === undefined) {
    box.setAttribute('viewBox', '0 0 600 40');
    return;
  }
  const CX = 110;
  const SX = 490;
  const items = sequenceItems(c, lang);
  const height = 50 + items.length * 24 + 10;
  const fragment = document.createDocumentFragment();
  const defs = svg('defs', {});
  const marker = svg('marker', {
    id: 'seqhead',
    viewBox: '0 0 10 10',
    refX: 9,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: 'auto',
  });
  marker.appendChild(svg('path', { d: 'M0,0L10,5L0,10z' }));
  defs.appendChild(marker);
  fragment.appendChild(defs);
  const head = (x: number, who: string, at: string) => {
    const t = svg('text', { x, y: 16, 'text-anchor': 'middle', 'font-weight': 700 }, `${who} `);
    t.appendChild(svg('tspan', { 'data-verbatim': 'address' }, at));
    fragment.appendChild(t);
  };
  head(CX, word('client', lang), addressText(c.remote));
  head(SX, word('server', lang), addressText(c.local));
  fragment.appendChild(svg('line', { x1: CX, y1: 24, x2: CX, y2: height, class: 'life' }));
  fragment.appendChild(svg('line', { x1: SX, y1: 24, x2: SX, y2: height, class: 'life' }));
  let y = 44;
  for (const it of items) {
    if (it.kind === 'msg') {
      const x1 = it.from === 'client' ? CX : SX;
      const x2 = it.from === 'client' ? SX : CX;
      fragment.appendChild(
        svg('line', {
          x1,
          y1: y,
          x2,
          y2: y + 6,
          class: it.fin ? 'msg fin' : 'msg',
          'marker-end': 'url(#seqhead)',
          'data-from': it.from,
        }),
      );
      const t = svg('text', { x: (CX + SX) / 2, y: y - 2, 'text-anchor': 'middle' }, it.text);
      // The bytes' own text is data, not the page's words.
      if (it.payload !== undefined)
        t.appendChild(svg('tspan', { 'data-verbatim': 'payload' }, `: ${it.payload}`));
      fragment.appendChild(t);
    } else {
      const x = it.end === 'client' ? CX : it.end === 'server' ? SX : (CX + SX) / 2;
      const anchor = it.end === 'client' ? 'end' : it.end === 'server' ? 'start' : 'middle';
      const dx = it.end === 'client' ? -6 : it.end === 'server' ? 6 : 0;
      const attrs: Record<string, string | number> = { x: x + dx, y: y + 4, 'text-anchor': anchor };
      if (it.kind === 'state') attrs.class = 'ks';
      fragment.appendChild(svg('text', attrs, it.text));
    }
    y += 24;
  }
  box.setAttribute('viewBox', `0 0 600 ${height}`);
  box.appendChild(fragment);
}

// The export is fetched at most once a second (under load the selection changes all the time).
let exported = '';
let exportAt = 0;
let exportTimer: ReturnType<typeof setTimeout> | undefined;
function renderExport(c: ViewConnection | undefined): void {
  if (c === undefined) {
    setText($('mermaid'), '');
    return;
  }
  const key = `${c.id}|${c.updated}|${lang}`;
  if (key === exported) return;
  const wait = exportAt + EXPORT_INTERVAL_MS - Date.now();
  if (wait > 0) {
    if (exportTimer === undefined) {
      exportTimer = setTimeout(() => {
        exportTimer = undefined;
        schedule();
      }, wait);
    }
    return;
  }
  exported = key;
  exportAt = Date.now();
  fetch(`mermaid?id=${encodeURIComponent(c.id)}&lang=${lang}`)
    .then((r) => (r.ok ? r.text() : ''))
    .then((t) => {
      if (t) setText($('mermaid'), t);
    })
    .catch(() => {});
}

// The selected connection's first bytes each way, as hexdump -C prints them.
let drawnHex = '';
function renderHex(c: ViewConnection | undefined): void {
  const shown = c?.shownBytes;
  const key = `${lang}|${c?.id ?? ''}|${shown?.in.length ?? 0}|${shown?.out.length ?? 0}|${c?.bytesIn ?? 0}|${c?.bytesOut ?? 0}`;
  if (key === drawnHex) return;
  drawnHex = key;
  const way = (digits: string, total: number, pre: string, note: string) => {
    setText($(pre), digits === '' ? '' : formatHexdump(fromHex(digits)));
    const kept = digits.length / 2;
    setText(
      $(note),
      c === undefined ? '' : kept === 0 ? word('hexNone', lang) : total > kept ? word('hexCut', lang) : '',
    );
  };
  way(shown?.in ?? '', c?.bytesIn ?? 0, 'hex-in', 'hex-in-note');
  way(shown?.out ?? '', c?.bytesOut ?? 0, 'hex-out', 'hex-out-note');
}

function fromHex(digits: string): Uint8Array {
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function render(): void {
  renders++;
  if (follow && connections.size > 0) selected = newest()?.id;
  const c = selectedConnection();
  renderDiagram(c);
  renderList();
  renderSequence(c);
  renderHex(c);
  setText($('stats'), statsText(view, lang));
  renderExport(c);
  ($('follow') as HTMLInputElement).checked = follow;
  document.body.dataset.renders = String(renders);
}

// At most MAX_RENDERS_PER_SECOND renders a second, each in an animation frame (so none while the
// page is hidden); data that arrives in between is drawn by the next one.
let pending = false;
let renderedAt = 0;
function schedule(): void {
  if (pending) return;
  pending = true;
  setTimeout(
    () => {
      requestAnimationFrame(() => {
        pending = false;
        renderedAt = Date.now();
        render();
      });
    },
    Math.max(
      0,
      renderedAt +
        1000 / (view.busy === true ? BUSY_RENDERS_PER_SECOND : MAX_RENDERS_PER_SECOND) -
        Date.now(),
    ),
  );
}

function applyLanguage(): void {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
    const key = el.dataset.i18n;
    if (isWord(key)) setText(el, word(key, lang));
  }
  schedule();
}

// The words that depend on the transport: UDP has peers and datagrams, not connections.
function applyTransport(): void {
  const udp = view.transport === 'udp';
  document.body.dataset.transport = view.transport;
  const set = (id: string, key: WordKey) => {
    const el = $(id);
    el.dataset.i18n = key;
    setText(el, word(key, lang));
  };
  set('tcp-title', udp ? 'udpFlow' : 'tcpFlow');
  set('list-title', udp ? 'peers' : 'connections');
  set('sequence-title', udp ? 'sequencePeer' : 'sequence');
  set('empty', udp ? 'nonePeer' : 'none');
  set('note', udp ? 'udpNote' : 'unknownNote');
  tableHeads(view.transport).forEach((key, i) => {
    set(`head-${i}`, key);
  });
  // SVG elements have no hidden property: the attribute, and the style rule for it.
  $('tcp-diagram').toggleAttribute('hidden', udp);
  $('udp-diagram').toggleAttribute('hidden', !udp);
}

$('rows').addEventListener('click', (event) => {
  const target = event.target;
  const tr = target instanceof Element ? target.closest('tr[data-connection]') : null;
  if (!(tr instanceof HTMLElement)) return;
  selected = tr.dataset.connection;
  follow = false;
  render();
});
$('follow').addEventListener('change', (event) => {
  follow = (event.target as HTMLInputElement).checked;
  render();
});
$('lang').addEventListener('click', () => {
  lang = lang === 'ko' ? 'en' : 'ko';
  applyLanguage();
});
$('copy').addEventListener('click', () => {
  const done = () => {
    $('copy-state').dataset.i18n = 'copied';
    setText($('copy-state'), word('copied', lang));
  };
  navigator.clipboard?.writeText($('mermaid').textContent ?? '').then(done, () => {});
});
$('run').addEventListener('click', () => {
  setText($('run-result'), word('running', lang));
  follow = true;
  fetch('run', { headers: { 'X-Socket-Steps': 'run' } })
    .then((r) => r.text())
    .then((t) => setText($('run-result'), showText(t.trim())))
    .catch((e: unknown) => setText($('run-result'), String(e)));
});

interface Snapshot extends PageView {
  connections: ViewConnection[];
}
type Update = Partial<PageView> & { connections: ViewConnection[] };

const source = new EventSource('events');
source.addEventListener('snapshot', (event) => {
  const snapshot = JSON.parse((event as MessageEvent<string>).data) as Snapshot;
  const { connections: list, ...rest } = snapshot;
  view = rest;
  connections.clear();
  merge([...list].reverse());
  applyTransport();
  const run = $('run');
  run.hidden = view.client === undefined;
  setText($('run-label'), view.client === undefined ? '' : ` ${view.client}`);
  document.body.dataset.ready = 'true';
  schedule();
});
source.addEventListener('update', (event) => {
  const { connections: list, ...rest } = JSON.parse((event as MessageEvent<string>).data) as Update;
  merge(list);
  view = { ...view, ...rest };
  schedule();
});
applyLanguage();
