/**
 * The live page's drawing decisions (src/view/page-script/draw.ts), without a browser: which arrows
 * light and which way they run, the labels and row texts in both languages, the UDP page's own
 * words; and the page itself, with its bundled script, inside the library and the bundled programs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { lectureStep, type TraceAddress, type TraceEvent } from '../../src/trace/schema.js';
import { toMermaid } from '../../src/view/mermaid.js';
import { renderPage } from '../../src/view/page.js';
import {
  type ArrowDrawing,
  rowCells,
  sequenceItems,
  statsText,
  tcpArrows,
  tcpBoxes,
  udpArrows,
  udpBoxes,
  visibleRows,
} from '../../src/view/page-script/draw.js';
import { kernelStateText } from '../../src/view/page-script/words.js';
import { type ViewConnection, ViewState } from '../../src/view/state.js';
import { ROOT } from '../helpers/process.js';

const SERVER: TraceAddress = { address: '127.0.0.1', port: 9000, family: 'IPv4' };
const CLIENT: TraceAddress = { address: '127.0.0.1', port: 5000, family: 'IPv4' };
let clock = 1_000;
function ev(init: Omit<TraceEvent, 'step' | 'time'>): TraceEvent {
  return { ...init, step: lectureStep(init.transport, init.role, init.action), time: clock++ };
}
const tcp = (action: TraceEvent['action'], more: Partial<TraceEvent> = {}) =>
  ev({ transport: 'tcp', role: 'server', action, endpoint: 1, connection: 1, ...more });

function connection(events: TraceEvent[], kernel?: { server: string; client: string }): ViewConnection {
  const state = new ViewState();
  state.apply(tcp('listen', { connection: undefined, local: SERVER, backlog: 5 }));
  for (const e of events) state.apply(e);
  const [c] = state.connections();
  assert.ok(c);
  // Two readings that agree, as a reader gives them: one alone does not make an end gone.
  for (let i = 0; kernel !== undefined && i < 2; i++) {
    state.applyKernel(c.id, kernel as ViewConnection['kernel'], clock++);
  }
  return c;
}

const hello = () =>
  connection([
    tcp('accept', { local: SERVER, remote: CLIENT }),
    tcp('write', { bytes: 13, text: 'Hello World!\u0000' }),
    tcp('close', { reason: 'done' }),
  ]);

const greet = () =>
  connection([
    tcp('accept', { local: SERVER, remote: CLIENT }),
    tcp('read', { bytes: 14, text: "Hi. I'm Bob.\n" }),
    tcp('write', { bytes: 19, text: "Hi, Bob. I'm Jane.\n" }),
    tcp('read', { bytes: 25, text: 'Nice to meet you, Jane.\n' }),
    tcp('eof'),
    tcp('shutdown'),
    tcp('close', { reason: 'done' }),
  ]);

const brief = (arrows: ArrowDrawing[]) =>
  arrows.map((a) => `${a.arrow}:${a.from}${a.lit ? ':lit' : ''}${a.first ? ':first' : ''}`);

describe('the page: state in, drawing out', () => {
  test('hello: the 13 bytes and the first FIN go server → client; the client sent nothing', () => {
    const c = hello();
    const arrows = tcpArrows(c, 'en');
    assert.deepEqual(brief(arrows), [
      'connect:client:lit',
      'data:client',
      'data:server:lit',
      'fin:server:lit:first',
      'fin:client',
    ]);
    assert.equal(arrows[1]?.label, 'data 0 bytes');
    assert.equal(arrows[2]?.label, 'data 13 bytes');
    assert.equal(arrows[3]?.label, "FIN: the client's read() returns 0");
    // The kernel then says the client closed too (gone) and the server waits: server first, both FINs.
    const later = connection(
      [
        tcp('accept', { local: SERVER, remote: CLIENT }),
        tcp('write', { bytes: 13 }),
        tcp('close', { reason: 'done' }),
      ],
      { server: 'TIME_WAIT', client: 'gone' },
    );
    assert.deepEqual(later.finSent, { server: true, client: true });
    assert.equal(later.closedFirst, 'server');
    const ko = tcpArrows(later, 'ko');
    assert.deepEqual(brief(ko), [
      'connect:client:lit',
      'data:client',
      'data:server:lit',
      'fin:server:lit:first',
      'fin:client:lit',
    ]);
    assert.equal(ko[2]?.label, '데이터 13바이트');
    assert.equal(ko[3]?.label, 'FIN: 클라이언트의 read()가 0을 반환 (먼저)');
    assert.equal(ko[4]?.label, 'FIN: 서버의 read()가 0을 반환');
  });

  test('greet: bytes both ways, and the client FIN first (the close starts at the client)', () => {
    const c = greet();
    const arrows = tcpArrows(c, 'en');
    assert.deepEqual(brief(arrows), [
      'connect:client:lit',
      'data:client:lit',
      'data:server:lit',
      'fin:client:lit:first',
      'fin:server:lit',
    ]);
    assert.equal(arrows[1]?.label, 'data 39 bytes');
    assert.equal(arrows[2]?.label, 'data 19 bytes');
    assert.equal(arrows[3]?.label, "FIN: the server's read() returns 0 (first)");
  });

  test('nothing selected: every arrow dark, one per direction', () => {
    assert.deepEqual(brief(tcpArrows(undefined, 'en')), [
      'connect:client',
      'data:client',
      'data:server',
      'fin:client:first',
      'fin:server',
    ]);
    assert.deepEqual(brief(udpArrows(undefined, 'en')), ['datagram:client', 'reply:server']);
  });

  test("the kernel's words: 'not read yet' until read, 'unknown' and 'gone' translated, state names as the kernel spells them", () => {
    const c = hello();
    assert.deepEqual(
      rowCells(c, 'en').map((x) => x.text),
      ['1-1', '127.0.0.1:5000', '4a 4b 4c', '0/13', 'not read yet', 'not read yet'],
    );
    assert.deepEqual(
      rowCells(c, 'ko').map((x) => x.text),
      ['1-1', '127.0.0.1:5000', '4a 4b 4c', '0/13', '아직 읽지 않음', '아직 읽지 않음'],
    );
    assert.deepEqual(
      rowCells(c, 'en').map((x) => x.state),
      [false, false, false, false, true, true],
    );
    assert.equal(kernelStateText('unknown', 'ko'), '알 수 없음');
    assert.equal(kernelStateText('gone', 'ko'), '사라짐');
    assert.equal(kernelStateText('TIME_WAIT', 'ko'), 'TIME_WAIT');
  });

  test('the boxes: the lecture steps lit, with their details in the page language', () => {
    const c = hello();
    const view = { transport: 'tcp' as const, listen: { address: '127.0.0.1', port: 9000, acceptQueue: 0 } };
    const boxes = Object.fromEntries(tcpBoxes(view, c, 'ko').map((b) => [b.step, b]));
    assert.equal(boxes['tcp-server-4c']?.detail, '정상 종료');
    assert.equal(boxes['tcp-server-4b']?.detail, '수신 0바이트, 송신 13바이트');
    assert.equal(boxes['tcp-server-3']?.detail, '연결 대기 큐 0');
    assert.equal(boxes['tcp-client-2']?.inferred, true, 'the client ran elsewhere: drawn dashed');
    assert.equal(tcpBoxes(view, c, 'en').find((b) => b.step === 'tcp-server-4c')?.detail, 'done');
  });

  test('the sequence diagram: labels in Korean, the bytes themselves kept apart as data', () => {
    const items = sequenceItems(hello(), 'ko');
    assert.deepEqual(
      items.map((i) => i.text),
      [
        '연결의 요청 connect() → 연결요청에 대한 수락 accept() (4a)',
        'write() 13바이트',
        '연결종료 close(): FIN',
        '연결종료 close()',
      ],
    );
    const write = items[1];
    assert.ok(write?.kind === 'msg');
    assert.equal(write.from, 'server');
    assert.equal(write.payload, '"Hello World!\\0"');
    assert.equal(sequenceItems(hello(), 'en')[0]?.text, 'connect() → accept() (4a)');
  });

  test('TLS: the handshake is an arrow between the accept and the data, with version and cipher', () => {
    const tls = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', resumed: false };
    const over = connection([
      tcp('accept', { local: SERVER, remote: CLIENT }),
      tcp('handshake', { tls }),
      tcp('write', { bytes: 13, text: 'Hello World!\u0000' }),
      tcp('close', { reason: 'done' }),
    ]);
    assert.equal(over.tls, 'TLSv1.3, TLS_AES_256_GCM_SHA384');
    assert.deepEqual(
      sequenceItems(over, 'ko').map((i) => i.text),
      [
        '연결의 요청 connect() → 연결요청에 대한 수락 accept() (4a)',
        'TLS 핸드셰이크 (4a): TLSv1.3, TLS_AES_256_GCM_SHA384',
        'write() 13바이트',
        '연결종료 close(): FIN',
        '연결종료 close()',
      ],
    );
    const resumed = connection([
      tcp('accept', { local: SERVER, remote: CLIENT }),
      tcp('handshake', { tls: { ...tls, resumed: true } }),
    ]);
    assert.equal(
      sequenceItems(resumed, 'en')[1]?.text,
      'TLS handshake (4a): TLSv1.3, TLS_AES_256_GCM_SHA384 (session resumed)',
    );
    // The Mermaid text too: both ways, the agreement on the server's arrow.
    assert.match(
      toMermaid(over, 'en'),
      /\n {2}C->>S: TLS handshake \(4a\)\n {2}S->>C: TLSv1\.3, TLS_AES_256_GCM_SHA384\n {2}S->>C: write\(\)/,
    );
    assert.match(
      toMermaid(resumed, 'ko'),
      /C->>S: TLS 핸드셰이크 \(4a\)\n {2}S->>C: TLSv1\.3, TLS_AES_256_GCM_SHA384 \(세션 재개\)/,
    );
  });

  test('UDP: datagrams, replies and drops, per peer and in the header; no TCP words', () => {
    const state = new ViewState();
    const u = (action: TraceEvent['action'], more: Partial<TraceEvent> = {}) =>
      ev({ transport: 'udp', role: 'server', action, endpoint: 3, ...more });
    state.apply(u('bind', { local: { address: '127.0.0.1', port: 9100, family: 'IPv4' } }));
    state.apply(u('recvfrom', { remote: CLIENT, bytes: 0 }));
    state.apply(u('sendto', { remote: CLIENT, bytes: 13 }));
    state.apply(u('recvfrom', { remote: CLIENT, bytes: 0 }));
    state.apply(u('drop', { remote: CLIENT, bytes: 13, reason: 'rate limit' }));
    const [peer] = state.connections();
    assert.ok(peer);
    assert.equal(peer.datagramsIn, 2);
    assert.equal(peer.repliesOut, 1);
    assert.equal(state.counters.replies, 1);
    assert.deepEqual(
      rowCells(peer, 'en').map((x) => x.text),
      ['3-1', '127.0.0.1:5000', 'recvfrom() sendto() not sent', '0/13', '2', '1/1'],
    );
    assert.deepEqual(brief(udpArrows(peer, 'en')), ['datagram:client:lit', 'reply:server:lit']);
    const view = {
      transport: 'udp' as const,
      service: 'hello',
      stats: {
        transport: 'udp' as const,
        service: 'hello',
        accepted: 2,
        refused: 1,
        open: 0,
        errors: {},
        bytesIn: 0,
        bytesOut: 13,
        outcomes: { replied: 1 },
        healthChecks: 0,
        stages: {},
      },
      rates: { accepted: 2, bytesIn: 0, bytesOut: 13 },
    };
    const en = statsText(view, 'en');
    assert.equal(
      en,
      'hello: datagrams received 2, replies sent 1, replies dropped by the rate limit 1 · 2 datagrams per second',
    );
    assert.doesNotMatch(en, /accept|open|refused|connection/i);
    assert.equal(
      statsText(view, 'ko'),
      'hello 데이터그램 수신 2, 응답 송신 1, 전송률 제한으로 보내지 않은 응답 1 · 초당 데이터그램 2',
    );
    const sendto = udpBoxes(view, peer, 'en').find((b) => b.step === 'udp-server-sendto');
    assert.equal(sendto?.detail, '1 datagram, 13 bytes, 1 not sent (rate limit)');
  });

  test('the list is bounded, newest first, and keeps the selected connection in', () => {
    const state = new ViewState();
    for (let i = 1; i <= 150; i++) {
      state.apply(tcp('accept', { connection: i, local: SERVER, remote: { ...CLIENT, port: 10_000 + i } }));
    }
    const rows = visibleRows(state.connections(), 100, '1-3');
    assert.equal(rows.length, 101);
    assert.equal(rows[0]?.id, '1-150');
    assert.equal(rows.at(-1)?.id, '1-3');
    assert.equal(visibleRows(state.connections(), 100).length, 100);
  });

  test('the page carries its bundled script, inside the library and inside the bundled programs', () => {
    const page = renderPage({ lang: 'ko', program: 'hserver' });
    assert.match(page, /<html lang="ko">/);
    assert.match(page, /data-arrow="data" data-from="server"/);
    assert.match(page, /data-arrow="fin" data-from="client"/);
    assert.match(page, /new EventSource\("events"\)/);
    assert.doesNotMatch(page.slice(page.indexOf('<script>') + 8, page.lastIndexOf('</script>')), /<\/script/);
    const udp = renderPage({ lang: 'en', program: 'userver', transport: 'udp' });
    assert.match(udp, /data-arrow="reply" data-from="server"/);
    assert.match(udp, /<th id="head-4" data-i18n="datagramsIn">datagrams in<\/th>/);
    for (const bin of ['hserver', 'userver']) {
      const bundled = readFileSync(`${ROOT}dist/bin/${bin}.cjs`, 'utf8');
      assert.ok(bundled.includes('new EventSource('), `${bin}.cjs carries the page script`);
      assert.ok(bundled.includes('data-arrow'), `${bin}.cjs carries the page`);
    }
  });
});
