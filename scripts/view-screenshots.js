// node scripts/view-screenshots.js [DIR]: the pictures of the live view in the README and docs/view.md, from a real run.
// Starts bin/hserver --service greet with --view on free loopback ports, opens the page in Debian's
// chromium (playwright-core; CHROMIUM_PATH names another), runs the page's client three times,
// waits until the kernel's states of the newest connection have settled, and saves the page at
// 1,280 px in English (DIR/view.png) and in Korean (DIR/view.ko.png). DIR defaults to docs/.
// Needs a CJK font for the Korean one (Debian: fonts-noto-cjk). Run after npm run build.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const dir = process.argv[2] ?? 'docs';
const server = spawn(
  process.execPath,
  ['bin/hserver', '--service', 'greet', '--host', '127.0.0.1', '--view', '0', '0'],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let log = '';
server.stderr.setEncoding('utf8');
const deadline = AbortSignal.timeout(10_000);
while (!/listening on/.test(log)) {
  const [chunk] = await once(server.stderr, 'data', { signal: deadline });
  log += chunk;
}
const url = /view on (\S+)\n/.exec(log)?.[1];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless=new', '--disable-gpu'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  for (let i = 0; i < 3; i++) {
    await page.click('#run');
    await page.waitForSelector('#run-result:has-text("Jane")');
    await page.evaluate(() => {
      document.getElementById('run-result').textContent = '';
    });
  }
  // The newest connection's ends have left ESTABLISHED and the export has arrived.
  await page.waitForFunction(
    () =>
      /TIME_WAIT/.test(document.getElementById('kernel-client')?.textContent ?? '') ||
      /TIME_WAIT/.test(document.getElementById('kernel-server')?.textContent ?? ''),
    undefined,
    { timeout: 10_000 },
  );
  await page.waitForSelector('#mermaid:has-text("sequenceDiagram")');
  await page.waitForTimeout(1200);
  await page.screenshot({ path: join(dir, 'view.png'), fullPage: true });
  await page.click('#lang');
  await page.waitForSelector('#mermaid:has-text("연결요청에 대한 수락")', { timeout: 5_000 });
  await page.screenshot({ path: join(dir, 'view.ko.png'), fullPage: true });
  console.log(`saved ${join(dir, 'view.png')} and ${join(dir, 'view.ko.png')}`);
} finally {
  await browser.close();
  server.kill('SIGTERM');
  await once(server, 'exit');
}
