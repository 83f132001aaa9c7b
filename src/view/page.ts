/**
 * The live view's page: one HTML document with inline CSS, inline SVG and its script inline, and
 * nothing loaded from anywhere else (no CDN, fonts or analytics: it works with no network). The
 * script is TypeScript of its own (src/view/page-script/), bundled at build time into a string
 * module (scripts/bundle-page.js), so that the bundled programs (dist/bin/*.cjs) carry the page
 * inside them: there is no asset file to find at run time.
 *
 * The diagrams are drawn as the lecture draws them. Every box has `data-step` (`tcp-server-4a`,
 * `tcp-client-2`, `udp-server-recvfrom`, ...) and, when lit for the selected connection,
 * `data-lit="true"`; every arrow has `data-arrow` (`connect`, `data`, `fin`; UDP `datagram`,
 * `reply`) and `data-from` (`client`, `server`), one element per direction; each row of the
 * connection list has `data-connection="<id>"`. The first state is drawn here with the same
 * decisions (page-script/draw.ts) that the script redraws with.
 */
import type { TraceLanguage } from '../trace/schema.js';
import { type ArrowDrawing, tableHeads, tcpArrows, udpArrows } from './page-script/draw.js';
import { PAGE_WORDS, type WordKey } from './page-script/words.js';
import { PAGE_SCRIPT } from './page-script.generated.js';

export { PAGE_WORDS, type PageWord, type WordKey } from './page-script/words.js';

/** What the page is rendered with. */
export interface PageOptions {
  /** The page's first language (its button switches). */
  lang: TraceLanguage;
  /** The program serving the page (`hserver`), shown in its title. */
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

// The boxes' width, and the two columns' left edges, in the diagrams' own units.
const BOX = 220;
const CX = 10;
const SX = 500;

function box(
  lang: TraceLanguage,
  step: string,
  x: number,
  y: number,
  call: string,
  words: WordKey,
  number: string,
): string {
  return `<g class="box" data-step="${step}" transform="translate(${x},${y})">
<rect width="${BOX}" height="52" rx="6"/>
<text x="10" y="18" class="call">${escapeHtml(number)} ${escapeHtml(call)}</text>
<text x="10" y="33" data-i18n="${words}">${escapeHtml(PAGE_WORDS[words][lang])}</text>
<text x="10" y="47" class="detail" data-detail="${step}"></text>
</g>`;
}

// One arrow element per direction, between the columns at height y (the script moves the FINs).
function arrow(a: ArrowDrawing, y: number, labelY: number, marker: string): string {
  const [x1, x2] = a.from === 'client' ? [CX + BOX, SX] : [SX, CX + BOX];
  return `<g class="arrow" data-arrow="${a.arrow}" data-from="${a.from}" transform="translate(0,${y})"><line x1="${x1}" y1="0" x2="${x2}" y2="0" marker-end="url(#${marker})"/>
<text x="${(CX + BOX + SX) / 2}" y="${labelY}" text-anchor="middle">${escapeHtml(a.label)}</text></g>`;
}

function tcpDiagram(lang: TraceLanguage, hidden: boolean): string {
  const [connect, dataUp, dataDown, finFirst, finSecond] = tcpArrows(undefined, lang);
  const arrows = [
    connect && arrow(connect, 266, -5, 'head'),
    dataUp && arrow(dataUp, 334, -5, 'head'),
    dataDown && arrow(dataDown, 356, 14, 'head'),
    finFirst && arrow(finFirst, 410, -5, 'head'),
    finSecond && arrow(finSecond, 432, 14, 'head'),
  ].join('\n');
  return `<svg id="tcp-diagram" viewBox="0 0 760 560" role="img" aria-labelledby="tcp-title"${hidden ? ' hidden' : ''}>
<defs><marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>
<text x="${CX + BOX / 2}" y="18" text-anchor="middle" class="column" data-i18n="client">${PAGE_WORDS.client[lang]}</text>
<text x="${SX + BOX / 2}" y="18" text-anchor="middle" class="column" data-i18n="server">${PAGE_WORDS.server[lang]}</text>
${box(lang, 'tcp-server-1', SX, 30, 'socket()', 's1', '1.')}
${box(lang, 'tcp-server-2', SX, 94, 'bind()', 's2', '2.')}
${box(lang, 'tcp-server-3', SX, 158, 'listen()', 's3', '3.')}
<g class="box group" data-step="tcp-server-4" transform="translate(${SX - 10},216)"><rect width="${BOX + 40}" height="236" rx="8"/>
<text x="10" y="16" class="call">4. <tspan data-i18n="s4">${PAGE_WORDS.s4[lang]}</tspan></text></g>
${box(lang, 'tcp-server-4a', SX, 240, 'accept()', 's4a', '4a.')}
${box(lang, 'tcp-server-4b', SX, 316, 'read()/write()', 's4b', '4b.')}
${box(lang, 'tcp-server-4c', SX, 392, 'close()', 's4c', '4c.')}
<path class="loop" d="M${SX + BOX},418 C${SX + BOX + 30},418 ${SX + BOX + 30},266 ${SX + BOX},266" marker-end="url(#head)"/>
<text x="${SX + BOX + 20}" y="470" text-anchor="end" class="detail" data-i18n="loop">${PAGE_WORDS.loop[lang]}</text>
${box(lang, 'tcp-server-5', SX, 484, 'close()', 's5', '5.')}
${box(lang, 'tcp-client-1', CX, 30, 'socket()', 'c1', '1.')}
${box(lang, 'tcp-client-2', CX, 240, 'connect()', 'c2', '2.')}
${box(lang, 'tcp-client-3', CX, 316, 'read()/write()', 'c3', '3.')}
${box(lang, 'tcp-client-4', CX, 392, 'close()', 'c4', '4.')}
${arrows}
<text x="${CX}" y="475" class="kernel" id="kernel-client"></text>
<text x="${CX}" y="495" class="detail client-source"></text>
<text x="${SX}" y="553" class="kernel" id="kernel-server"></text>
</svg>`;
}

function udpDiagram(lang: TraceLanguage, hidden: boolean): string {
  const [datagram, reply] = udpArrows(undefined, lang);
  return `<svg id="udp-diagram" viewBox="0 0 760 420" role="img"${hidden ? ' hidden' : ''}>
<defs><marker id="uhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>
<text x="${CX + BOX / 2}" y="18" text-anchor="middle" class="column" data-i18n="client">${PAGE_WORDS.client[lang]}</text>
<text x="${SX + BOX / 2}" y="18" text-anchor="middle" class="column" data-i18n="server">${PAGE_WORDS.server[lang]}</text>
${box(lang, 'udp-server-socket', SX, 30, 'socket()', 'u1', '1.')}
${box(lang, 'udp-server-bind', SX, 94, 'bind()', 'u2', '2.')}
${box(lang, 'udp-server-recvfrom', SX, 170, 'recvfrom()', 'urecv', '3.')}
${box(lang, 'udp-server-sendto', SX, 246, 'sendto()', 'usend', '3.')}
<path class="loop" d="M${SX + BOX},272 C${SX + BOX + 30},272 ${SX + BOX + 30},196 ${SX + BOX},196" marker-end="url(#uhead)"/>
${box(lang, 'udp-server-close', SX, 340, 'close()', 'uclose', '4.')}
${box(lang, 'udp-client-socket', CX, 30, 'socket()', 'u1', '1.')}
${box(lang, 'udp-client-sendto', CX, 170, 'sendto()', 'usend', '2.')}
${box(lang, 'udp-client-recvfrom', CX, 246, 'recvfrom()', 'urecv', '3.')}
${box(lang, 'udp-client-close', CX, 340, 'close()', 'uclose', '4.')}
${datagram ? arrow(datagram, 196, -5, 'uhead') : ''}
${reply ? arrow(reply, 272, -5, 'uhead') : ''}
<text x="${CX}" y="410" class="detail client-source"></text>
</svg>`;
}

// Two columns from 1,100 px up (every column of the table fits at 1,280), one below that.
const STYLE = `
:root { color-scheme: light; font-family: system-ui, 'Noto Sans CJK KR', sans-serif; }
body { margin: 0; padding: 12px 16px; background: #fafafa; color: #222; }
header { display: flex; gap: 8px 12px; align-items: center; flex-wrap: wrap; }
h1 { font-size: 1.25rem; margin: 0 12px 0 0; }
h2 { font-size: 1rem; margin: 14px 0 6px; }
button { font: inherit; padding: 4px 10px; border: 1px solid #888; border-radius: 4px; background: #fff; cursor: pointer; }
button:hover { background: #eef; }
#stats { font-size: .85rem; color: #444; }
main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; }
main > section { min-width: 0; }
@media (max-width: 1100px) { main { grid-template-columns: minmax(0, 1fr); } #flow svg { max-width: 760px; } }
[hidden] { display: none !important; }
svg { width: 100%; height: auto; background: #fff; border: 1px solid #ddd; border-radius: 6px; }
.box rect { fill: #f4f4f4; stroke: #999; }
.box.group rect { fill: none; stroke: #bbb; stroke-dasharray: 4 3; }
.box[data-lit="true"] rect { fill: #ffe9a8; stroke: #c98a00; stroke-width: 2; }
.box.group[data-lit="true"] rect { fill: none; stroke: #c98a00; }
.box[data-lit="true"][data-inferred="true"] rect { fill: #fff5d6; stroke-dasharray: 5 3; }
.box text { font-size: 12px; }
.box text.call { font-weight: 600; font-family: ui-monospace, monospace; }
text.detail { font-size: 10px; fill: #555; }
text.column { font-weight: 700; font-size: 14px; }
text.kernel { font-size: 12px; font-family: ui-monospace, monospace; fill: #0a5; }
.arrow line, path.loop { stroke: #ccc; stroke-width: 1.5; fill: none; }
.arrow text { font-size: 10.5px; fill: #999; }
.arrow[data-lit="true"] line { stroke: #c98a00; stroke-width: 2.5; }
.arrow[data-lit="true"][data-arrow="fin"] line { stroke: #b33; }
.arrow[data-lit="true"] text { fill: #222; }
.arrow[data-first="true"] text { font-weight: 600; }
marker path { fill: #888; }
#list { max-height: 260px; overflow: auto; border: 1px solid #ddd; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; font-size: .78rem; background: #fff; }
th, td { text-align: left; vertical-align: top; padding: 3px 5px; border-bottom: 1px solid #eee; overflow-wrap: anywhere; }
col.c-id { width: 11%; } col.c-addr { width: 27%; } col.c-steps { width: 12%; } col.c-bytes { width: 12%; } col.c-state { width: 19%; }
tr[data-connection] { cursor: pointer; }
tr[data-selected="true"] { background: #ffe9a8; }
#empty, #more { font-size: .8rem; color: #555; margin: 6px; }
#hex h3 { font-size: .85rem; margin: 6px 0 2px; }
#hex pre { background: #fff; border: 1px solid #ddd; padding: 6px; font-size: .72rem; max-height: 220px; overflow: auto; white-space: pre; margin: 0; }
.hex-note { font-weight: 400; color: #555; }
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

/** The page, in `lang` (the toggle switches on the page itself). */
export function renderPage({ lang, program, transport = 'tcp' }: PageOptions): string {
  const udp = transport === 'udp';
  const w = (key: WordKey) => escapeHtml(PAGE_WORDS[key][lang]);
  const heads = tableHeads(transport)
    .map((key, i) => `<th id="head-${i}" data-i18n="${key}">${w(key)}</th>`)
    .join('');
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(program)}: ${w('title')}</title>
<style>${STYLE}</style>
</head>
<body data-transport="${transport}">
<header>
<h1><span data-i18n="title">${w('title')}</span> · ${escapeHtml(program)}</h1>
<button id="run" type="button" hidden><span data-i18n="run">${w('run')}</span><span id="run-label"></span></button>
<span id="run-result" data-verbatim="output"></span>
<button id="lang" type="button" data-i18n="langToggle">${w('langToggle')}</button>
<span id="stats"></span>
</header>
<main>
<section id="flow">
<h2 data-i18n="${udp ? 'udpFlow' : 'tcpFlow'}" id="tcp-title">${w(udp ? 'udpFlow' : 'tcpFlow')}</h2>
${tcpDiagram(lang, udp)}
${udpDiagram(lang, !udp)}
<p id="note" data-i18n="${udp ? 'udpNote' : 'unknownNote'}">${w(udp ? 'udpNote' : 'unknownNote')}</p>
</section>
<section id="details">
<h2><span id="list-title" data-i18n="${udp ? 'peers' : 'connections'}">${w(udp ? 'peers' : 'connections')}</span>
<label><input id="follow" type="checkbox" checked> <span data-i18n="follow">${w('follow')}</span></label></h2>
<div id="list"><table><colgroup><col class="c-id"><col class="c-addr"><col class="c-steps"><col class="c-bytes"><col class="c-state"><col class="c-state"></colgroup>
<thead><tr>${heads}</tr></thead>
<tbody id="rows"></tbody></table>
<p id="empty" data-i18n="${udp ? 'nonePeer' : 'none'}">${w(udp ? 'nonePeer' : 'none')}</p>
<p id="more" data-i18n="moreRows" hidden>${w('moreRows')}</p></div>
<h2 id="sequence-title" data-i18n="${udp ? 'sequencePeer' : 'sequence'}">${w(udp ? 'sequencePeer' : 'sequence')}</h2>
<svg id="sequence" viewBox="0 0 600 40"></svg>
<h2 data-i18n="hexTitle">${w('hexTitle')}</h2>
<div id="hex"><div><h3><span data-i18n="hexIn">${w('hexIn')}</span> <span id="hex-in-note" class="hex-note"></span></h3><pre id="hex-in" data-verbatim="code"></pre></div>
<div><h3><span data-i18n="hexOut">${w('hexOut')}</span> <span id="hex-out-note" class="hex-note"></span></h3><pre id="hex-out" data-verbatim="code"></pre></div></div>
<h2><span data-i18n="export">${w('export')}</span> <button id="copy" type="button" data-i18n="copy">${w('copy')}</button> <span id="copy-state"></span></h2>
<pre id="mermaid" data-verbatim="code"></pre>
</section>
</main>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
