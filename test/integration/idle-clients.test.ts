import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createGreetServer } from '../../src/services/greet.js';
import { subscribeTrace } from '../../src/trace/events.js';
import { testEnv } from '../helpers/process.js';

const WANTED = 10_000;
const FIXTURE = fileURLToPath(new URL('../fixtures/idle-clients.js', import.meta.url));

/** This process's open-file limit (the child inherits it). */
function fileLimit(): number {
  const text = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  return text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
}

test('10,000 idle connected clients at once, then each answered correctly', {
  timeout: 90_000,
}, async (t) => {
  // Each side needs one descriptor per connection, plus a few: the clients run in a child process.
  const limit = fileLimit();
  const count = Math.min(WANTED, limit - 256);
  if (count < WANTED) t.diagnostic(`ulimit -n is ${limit}: using ${count} clients instead of ${WANTED}`);
  assert.ok(count >= 1_000, `ulimit -n ${limit} is too low for this test`);

  const server = createGreetServer({ host: '127.0.0.1', port: 0, backlog: 4096, idleTimeout: 120_000 });
  const { port } = await server.listen();
  t.after(() => server.destroy());

  let accepted = 0;
  let allAccepted!: () => void;
  const allIn = new Promise<void>((resolve) => {
    allAccepted = resolve;
  });
  const unsubscribe = subscribeTrace((event) => {
    if (event.endpoint === server.endpoint && event.action === 'accept' && ++accepted === count)
      allAccepted();
  });
  t.after(unsubscribe);

  const started = performance.now();
  const child = spawn(process.execPath, [FIXTURE, String(port), String(count)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: testEnv(),
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 80_000);
  t.after(() => clearTimeout(killer));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const nextLine = async () => (await iterator.next()).value as string | undefined;

  assert.equal(await nextLine(), `connected ${count}`, stderr);
  await allIn;
  const connectedIn = performance.now() - started;
  // All of them open at once, idle, on the server.
  assert.equal(server.connections, count);

  child.stdin.end('talk\n');
  assert.equal(await nextLine(), `answered ${count} correct ${count}`, stderr);
  const [code] = await exited;
  assert.equal(code, 0, stderr);
  lines.close();
  t.diagnostic(
    `${count} clients connected in ${Math.round(connectedIn)} ms; all dialogues done in ${Math.round(performance.now() - started)} ms`,
  );
  await server.close();
});
