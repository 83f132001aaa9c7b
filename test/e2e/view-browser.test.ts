/**
 * The live view in a real browser: Debian's chromium driven by playwright-core. The page runs a
 * client from its button; the project's C hclient (and the textbook's, where SOCKET_STEPS_SEED_DIR
 * names its sources) connects from outside; the lit boxes, the kernel's states and the Korean
 * toggle are checked, and a screenshot is saved (to VIEW_SCREENSHOT too, when set: docs/view.png).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { projectHelloPrograms, textbookHelloPrograms } from '../helpers/c-programs.js';
import { binPath, runCommand } from '../helpers/process.js';
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
  await page.waitForSelector(`#kernel-server:has-text("${kernel.server}")`);
  await page.waitForSelector(`#kernel-client:has-text("${kernel.client}")`);
  await page.waitForSelector(`[data-connection="${id}"] td.state:has-text("${kernel.server}")`);
  return kernel;
}

describe('the live view in chromium', { timeout: 60_000 }, () => {
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

  async function open(locale = 'en-US'): Promise<Page> {
    const context = await browser.newContext({ locale, viewport: { width: 1320, height: 900 } });
    // The page must load nothing from elsewhere: any request off the view's origin fails the test.
    const foreign: string[] = [];
    context.on('request', (r) => {
      if (!r.url().startsWith(server.url)) foreign.push(r.url());
    });
    const page = await context.newPage();
    await page.goto(server.url);
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
