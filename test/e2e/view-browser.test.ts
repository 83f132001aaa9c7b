/**
 * The live view in a real browser: Debian's chromium driven by playwright-core. The page runs a
 * client from its button; the project's C hclient (and the textbook's, where SOCKET_STEPS_SEED_DIR
 * names its sources) connects from outside; the lit boxes, the kernel's states and the Korean
 * toggle are checked, and a screenshot is saved (to VIEW_SCREENSHOT too, when set). The arrows run
 * the way the bytes and FINs went; in Korean the page shows no English words; the table fits at
 * 1,280 px and stays reachable at 1,024; the UDP page has no TCP words; and a burst of connections
 * leaves the page's work bounded (rows in the DOM, renders a second).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { fetchHello } from '../../src/index.js';
import { kernelStateText } from '../../src/view/page-script/words.js';
import { projectHelloPrograms, textbookHelloPrograms } from '../helpers/c-programs.js';
import { binPath, runCommand } from '../helpers/process.js';
import { needs, TOOLS } from '../helpers/tools.js';
import {
  CHROMIUM_ARGS,
  chromiumPath,
  getState,
  startViewedServer,
  type ViewedServer,
  waitForState,
} from '../helpers/view.js';

const lit = (step: string) => `[data-step="${step}"][data-lit="true"]`;

// After a hello exchange, the end that sent the first FIN waits in TIME_WAIT and the other is gone
// (which one depends on a race: the server closes right after writing, the client right after
// reading). When both FINs cross on the wire (a simultaneous close), both ends wait in TIME_WAIT.
function settled(kernel: { server: string; client: string }): boolean {
  const states = [kernel.server, kernel.client].sort().join(',');
  return states === 'TIME_WAIT,gone' || states === 'TIME_WAIT,TIME_WAIT';
}

/** The page's visible text, without what is data rather than the page's words (`data-verbatim`). */
async function visibleText(page: Page): Promise<string> {
  // Runs in the page (a string: the tests are compiled without the DOM's types).
  return page.evaluate<string>(`(() => {
    const parts = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (parent === null || parent.closest('script, style, [data-verbatim]') !== null) continue;
      if (!parent.checkVisibility({ visibilityProperty: true })) continue;
      const text = node.textContent.trim();
      if (text) parts.push(text);
    }
    return parts.join(' | ');
  })()`);
}

// What may stay in Latin letters on the Korean page: the calls (`accept()`, `server.listen()`),
// the kernel's state names, the protocol's own terms as the lecture writes them (TCP, UDP, IP, PORT,
// FIN), program, service and product names (ss among them), the path /proc, and the button to
// English itself.
const ALLOWED = new Set([
  'ss',
  'TCP',
  'UDP',
  'IP',
  'PORT',
  'FIN',
  'Node',
  'Mermaid',
  'English',
  'hserver',
  'userver',
]);
const SERVICES = /^(hello|greet|echo|udp-hello|udp-echo)$/;
const STATES =
  /^(ESTABLISHED|SYN_SENT|SYN_RECV|FIN_WAIT1|FIN_WAIT2|TIME_WAIT|CLOSE|CLOSE_WAIT|LAST_ACK|LISTEN|CLOSING|NEW_SYN_RECV)$/;

/** The Latin-letter words of the page's visible text that are none of those allowed. */
async function englishLeft(page: Page): Promise<string[]> {
  const text = (await visibleText(page))
    .replace(/\[[0-9a-fA-F:.]+\](:\d+)?/g, ' ')
    .replace(/\b[a-zA-Z_][\w.]*\(\)/g, ' ')
    .replace(/\/proc\b/g, ' ')
    .replace(/\b\d+[a-c]?\b/g, ' ');
  const words = text.match(/[A-Za-z][A-Za-z0-9_-]*/g) ?? [];
  return [...new Set(words.filter((w) => !ALLOWED.has(w) && !SERVICES.test(w) && !STATES.test(w)))];
}

/** Waits until the page shows the kernel's states that /state gives for connection `id`, once settled. */
async function kernelShown(
  page: Page,
  base: string,
  id: string,
): Promise<{ server: string; client: string }> {
  const state = await waitForState(base, (s) =>
    settled(s.connections.find((c) => c.id === id)?.kernel ?? { server: '', client: '' }),
  );
  const kernel = state.connections.find((c) => c.id === id)?.kernel;
  assert.ok(kernel !== undefined);
  // The page's own words for a state are in its language (`gone` is 사라짐 in Korean).
  const lang = (await page.getAttribute('html', 'lang')) === 'ko' ? 'ko' : 'en';
  const server = kernelStateText(kernel.server, lang);
  const client = kernelStateText(kernel.client, lang);
  await page.waitForSelector(`#kernel-server:has-text("${server}")`);
  await page.waitForSelector(`#kernel-client:has-text("${client}")`);
  await page.waitForSelector(`[data-connection="${id}"] td.state:has-text("${server}")`);
  return kernel;
}

describe('the live view in chromium', { timeout: 60_000, ...needs(TOOLS.chromium) }, () => {
  let browser: Browser;
  let server: ViewedServer;
  const shots = mkdtempSync(join(tmpdir(), 'socket-steps-view-'));

  before(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
    server = await startViewedServer('hserver', ['--host', '127.0.0.1']);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function open(locale = 'en-US', width = 1280, base = server.url): Promise<Page> {
    const context = await browser.newContext({ locale, viewport: { width, height: 900 } });
    // The page must load nothing from elsewhere: any request off the view's origin fails the test.
    const foreign: string[] = [];
    context.on('request', (r) => {
      if (!r.url().startsWith(base)) foreign.push(r.url());
    });
    const page = await context.newPage();
    await page.goto(base);
    await page.waitForSelector('body[data-ready="true"]');
    page.on('close', () => assert.deepEqual(foreign, [], 'requests off the view origin'));
    return page;
  }

  test('a client run from the page lights both columns from one process', async () => {
    const page = await open();
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.click('#run');
    await page.waitForSelector('#run-result:has-text("Message from server: Hello World!")');
    for (const step of [
      'tcp-server-1',
      'tcp-server-2',
      'tcp-server-3',
      'tcp-server-4a',
      'tcp-server-4b',
      'tcp-server-4c',
    ]) {
      await page.waitForSelector(lit(step));
    }
    for (const step of ['tcp-client-1', 'tcp-client-2', 'tcp-client-3', 'tcp-client-4']) {
      await page.waitForSelector(`${lit(step)}:not([data-inferred])`);
    }
    assert.equal(await page.locator(lit('tcp-server-5')).count(), 0, 'the listening socket is still open');
    const newest = (await getState(server.url)).connections[0];
    assert.equal(newest?.clientSource, 'client');
    await kernelShown(page, server.url, newest.id);
    await page.waitForSelector('#mermaid:has-text("sequenceDiagram")');
    assert.match((await page.textContent('#mermaid')) ?? '', /S->>C: write\(\) 13 bytes: "Hello World!\\0"/);
    await page.close();
  });

  test("the selected connection's bytes, as hexdump -C, with the panel's words in both languages", async () => {
    const page = await open();
    await page.click('#run');
    await page.waitForSelector('#run-result:has-text("Message from server: Hello World!")');
    await page.waitForSelector('#hex-out:has-text("|Hello World!.|")');
    assert.equal(
      await page.textContent('#hex-out'),
      '00000000  48 65 6c 6c 6f 20 57 6f  72 6c 64 21 00           |Hello World!.|\n0000000d\n',
    );
    // hello's client sends nothing: the other way is empty, and says so.
    assert.equal(await page.textContent('#hex-in'), '');
    assert.equal(await page.textContent('#hex-in-note'), 'no bytes yet');
    await page.click('#lang');
    await page.waitForSelector('#hex-in-note:has-text("아직 바이트 없음")');
    assert.equal(await page.textContent('[data-i18n="hexOut"]'), '서버 → 클라이언트');
    await page.close();
  });

  for (const programs of [projectHelloPrograms(), textbookHelloPrograms()]) {
    if (programs === undefined) continue;
    test(`a C hclient from outside appears, the client column filled from what the server and kernel see (${programs.label})`, async () => {
      const page = await open();
      const before = (await getState(server.url)).connections.length;
      const run = await runCommand(programs.client, ['127.0.0.1', String(server.servicePort)]);
      assert.equal(run.code, 0, run.stderr.toString());
      assert.match(run.stdout.toString(), /Hello World!/);
      const state = await waitForState(server.url, (s) => s.connections.length > before);
      const newest = state.connections[0];
      assert.ok(newest !== undefined);
      assert.equal(newest.clientSource, 'server');
      const row = page.locator(`[data-connection="${newest.id}"]`);
      await row.waitFor();
      await row.click();
      await page.waitForSelector(`[data-connection="${newest.id}"][data-selected="true"]`);
      for (const step of ['tcp-server-4a', 'tcp-server-4b', 'tcp-server-4c'])
        await page.waitForSelector(lit(step));
      for (const step of ['tcp-client-1', 'tcp-client-2'])
        await page.waitForSelector(`${lit(step)}[data-inferred="true"]`);
      await kernelShown(page, server.url, newest.id);
      for (const step of ['tcp-client-3', 'tcp-client-4'])
        await page.waitForSelector(`${lit(step)}[data-inferred="true"]`);
      // hello: the 13 bytes went server → client, and the client sent none.
      await page.waitForSelector(
        '[data-arrow="data"][data-from="server"][data-lit="true"]:has-text("13 bytes")',
      );
      assert.equal(await page.getAttribute('[data-arrow="data"][data-from="client"]', 'data-lit'), null);
      assert.equal(await page.locator('[data-arrow="data"]').count(), 2, 'one data arrow per direction');
      assert.equal(await page.locator('[data-arrow="fin"]').count(), 2, 'one FIN arrow per direction');
      // Both ends sent their FIN; the upper (first) one starts at the side the kernel says closed first.
      await page.waitForSelector('[data-arrow="fin"][data-from="server"][data-lit="true"]');
      await page.waitForSelector('[data-arrow="fin"][data-from="client"][data-lit="true"]');
      const first = (await getState(server.url)).connections.find((c) => c.id === newest.id)?.closedFirst;
      if (first !== undefined) {
        await page.waitForSelector(`[data-arrow="fin"][data-first="true"][data-from="${first}"]`);
      }
      await page.close();
    });
  }

  test('the Korean toggle, and a Korean browser gets the Korean page', async () => {
    const page = await open();
    await page.click('#run');
    await page.waitForSelector(lit('tcp-server-4c'));
    await page.click('#lang');
    assert.equal(await page.getAttribute('html', 'lang'), 'ko');
    assert.equal(await page.textContent('#tcp-title'), 'TCP 클라이언트/서버 프로그램의 흐름');
    assert.equal(
      await page.textContent('[data-step="tcp-server-4a"] [data-i18n="s4a"]'),
      '연결요청에 대한 수락',
    );
    await page.waitForSelector('#mermaid:has-text("연결요청에 대한 수락")');
    await page.waitForSelector('#kernel-server:has-text("커널")');
    const shot = join(shots, 'view.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000, 'the screenshot has content');
    await page.click('#lang');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    if (process.env.VIEW_SCREENSHOT)
      await page.screenshot({ path: process.env.VIEW_SCREENSHOT, fullPage: true });
    await page.close();
    const korean = await open('ko-KR');
    assert.equal(await korean.getAttribute('html', 'lang'), 'ko');
    await korean.close();
    copyFileSync(shot, join(shots, 'view-ko.png'));
  });

  test(
    'in Korean, the page shows no English words (outside addresses, call names, state names, numbers)',
    needs(TOOLS.koreanFont),
    async () => {
      const page = await open('ko-KR');
      assert.equal(await page.getAttribute('html', 'lang'), 'ko');
      for (let i = 0; i < 2; i++) {
        await page.click('#run');
        await page.waitForSelector('#run-result:has-text("Hello World!")');
      }
      await fetchHello({ host: '127.0.0.1', port: server.servicePort });
      const state = await waitForState(server.url, (s) =>
        s.connections.slice(0, 3).every((c) => settled(c.kernel)),
      );
      await kernelShown(page, server.url, state.connections[0]?.id ?? '');
      await page.waitForSelector('#mermaid:has-text("연결요청에 대한 수락")');
      const left = await englishLeft(page);
      assert.deepEqual(left, [], `English words on the Korean page: ${left.join(' | ')}`);
      // The legend's three words, in Korean.
      const note = (await page.textContent('#note')) ?? '';
      for (const w of ['알 수 없음', '사라짐', '아직 읽지 않음']) assert.ok(note.includes(w), note);
      const shot = join(shots, 'view-ko-walk.png');
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(statSync(shot).size > 10_000, 'the screenshot has content');
      await page.close();
    },
  );

  test('layout: every cell of the table fits at 1,280 px (both languages); at 1,024 px the table is reachable', async () => {
    await fetchHello({ host: '127.0.0.1', port: server.servicePort });
    for (const [locale, width] of [
      ['en-US', 1280],
      ['ko-KR', 1280],
      ['en-US', 1024],
    ] as const) {
      const page = await open(locale, width);
      await page.waitForSelector('tr[data-connection] td.state');
      const row = page.locator('tr[data-connection]').first();
      await row.scrollIntoViewIfNeeded();
      const overflow = await page.evaluate<string[]>(`(() => {
        const list = document.getElementById('list').getBoundingClientRect();
        const viewport = document.documentElement.clientWidth;
        const bad = [];
        for (const cell of document.querySelectorAll('#list th, #list td')) {
          const r = cell.getBoundingClientRect();
          if (r.right > viewport + 0.5 || r.right > list.right + 0.5)
            bad.push(cell.textContent + ': right ' + r.right + ' > ' + Math.min(viewport, list.right));
          if (cell.scrollWidth > cell.clientWidth + 1)
            bad.push(cell.textContent + ': content ' + cell.scrollWidth + ' > cell ' + cell.clientWidth);
        }
        return bad;
      })()`);
      assert.deepEqual(overflow, [], `${locale} at ${width} px`);
      // Reachable: the row is in view and takes a click.
      assert.equal(await row.isVisible(), true);
      await row.click();
      await page.waitForSelector('tr[data-connection][data-selected="true"]');
      await page.close();
    }
  });

  test("a burst of connections: the page's rows and renders stay bounded", async () => {
    const page = await open();
    const before = Number((await page.getAttribute('body', 'data-renders')) ?? 0);
    const start = Date.now();
    // 160 connections, 8 at a time: more than the rows the page keeps in its DOM.
    for (let i = 0; i < 20; i++) {
      await Promise.all(
        Array.from({ length: 8 }, () => fetchHello({ host: '127.0.0.1', port: server.servicePort })),
      );
    }
    const total = (await waitForState(server.url, (s) => (s.stats?.accepted ?? 0) >= 160)).stats?.accepted;
    await page.waitForSelector(`#stats:has-text("accepted ${total}")`);
    const seconds = (Date.now() - start) / 1000;
    const rows = await page.locator('tr[data-connection]').count();
    assert.ok(rows <= 101, `${rows} rows in the DOM`);
    const renders = Number((await page.getAttribute('body', 'data-renders')) ?? 0) - before;
    assert.ok(renders <= Math.ceil(seconds * 4) + 2, `${renders} renders in ${seconds} s`);
    await page.close();
  });

  test('userver in both languages: datagrams, replies and peers, no TCP words', async () => {
    const udp = await startViewedServer('userver', ['--host', '127.0.0.1']);
    try {
      const page = await open('en-US', 1280, udp.url);
      const run = await runCommand(binPath('uclient'), ['127.0.0.1', String(udp.servicePort)]);
      assert.equal(run.code, 0);
      await page.waitForSelector('#stats:has-text("datagrams received 1, replies sent 1")');
      const stats = (await page.textContent('#stats')) ?? '';
      assert.match(stats, /replies dropped by the rate limit 0/);
      assert.doesNotMatch(stats, /accepted|open|refused|connection/i);
      assert.equal(await page.textContent('#list-title'), 'Peers (one row per client address and port)');
      const heads = await page.locator('#list th').allTextContents();
      assert.deepEqual(heads, [
        'id',
        'peer',
        'calls',
        'bytes in/out',
        'datagrams in',
        'replies sent/dropped',
      ]);
      await page.waitForSelector('[data-arrow="datagram"][data-from="client"][data-lit="true"]');
      await page.waitForSelector('[data-arrow="reply"][data-from="server"][data-lit="true"]');
      const visible = await visibleText(page);
      assert.doesNotMatch(visible, /accepted|refused|Connections|connection request/, visible);
      await page.click('#lang');
      await page.waitForSelector('#stats:has-text("데이터그램 수신 1, 응답 송신 1")');
      assert.equal(await page.textContent('#list-title'), '상대 목록 (클라이언트 주소와 포트마다 한 행)');
      const left = await englishLeft(page);
      assert.deepEqual(left, [], `English words on the Korean UDP page: ${left.join(' | ')}`);
      await page.close();
    } finally {
      await udp.stop();
    }
  });

  test('userver: the UDP flow lights for a datagram from outside', async () => {
    const udp = await startViewedServer('userver', ['--host', '127.0.0.1']);
    try {
      const context = await browser.newContext({ locale: 'en-US' });
      const page = await context.newPage();
      await page.goto(udp.url);
      await page.waitForSelector('body[data-ready="true"]');
      assert.equal(await page.isVisible('#udp-diagram'), true);
      assert.equal(await page.isVisible('#tcp-diagram'), false);
      const run = await runCommand(binPath('uclient'), ['127.0.0.1', String(udp.servicePort)]);
      assert.equal(run.stdout.toString(), 'Message from server: Hello World! \n');
      for (const step of [
        'udp-server-socket',
        'udp-server-bind',
        'udp-server-recvfrom',
        'udp-server-sendto',
      ]) {
        await page.waitForSelector(lit(step));
      }
      for (const step of ['udp-client-socket', 'udp-client-sendto'])
        await page.waitForSelector(`${lit(step)}[data-inferred="true"]`);
      assert.equal(await page.locator(lit('udp-server-close')).count(), 0);
      await page.close();
      await context.close();
    } finally {
      await udp.stop();
    }
  });
});
