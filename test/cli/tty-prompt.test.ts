/**
 * The echo clients on a real terminal: a pseudo-terminal made by util-linux `script`, so that
 * standard input is a TTY and the textbook's prompts appear. Input is typed only after the
 * prompt that asks for it has been seen, as a person would: each wait looks only at the output
 * after what the previous wait matched, so a prompt seen earlier never counts twice.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { before, describe, test } from 'node:test';
import { binPath, startServer, testEnv } from '../helpers/process.js';

before(() => {
  const probe = spawnSync('script', ['--version']);
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error('util-linux `script` is needed for the terminal tests (apt-get install bsdutils)');
  }
});

/** Runs `command` on a pseudo-terminal; `converse` types into it as the output arrives. */
async function onTerminal(
  command: string,
  converse: (
    output: () => string,
    type: (text: string) => void,
    waitFor: (text: string) => Promise<void>,
  ) => Promise<void>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    env: testEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  // Where the next wait starts looking: just past what the last one matched.
  let cursor = 0;
  let waiter: { text: string; resolve: () => void } | undefined;
  const match = (text: string): boolean => {
    const at = output.indexOf(text, cursor);
    if (at === -1) return false;
    cursor = at + text.length;
    return true;
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    if (waiter !== undefined && match(waiter.text)) {
      const { resolve } = waiter;
      waiter = undefined;
      resolve();
    }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const exited = once(child, 'exit');
  const waitFor = (text: string) =>
    match(text) ? Promise.resolve() : new Promise<void>((resolve) => (waiter = { text, resolve }));
  await Promise.race([
    converse(
      () => output,
      (text) => child.stdin.write(text),
      waitFor,
    ),
    exited,
  ]);
  const [code] = (await exited) as [number | null];
  clearTimeout(killer);
  return { code, output: output.replaceAll('\r\n', '\n') };
}

describe('echo clients on a terminal', () => {
  test('hclient --service echo prompts "Input message(Q to quit): " and answers each line', async (t) => {
    const server = await startServer('hserver', ['--service', 'echo', '--host', '127.0.0.1', '0']);
    t.after(() => server.stop());
    const { code, output } = await onTerminal(
      `${binPath('hclient')} --service echo 127.0.0.1 ${server.port}`,
      async (_output, type, waitFor) => {
        await waitFor('Input message(Q to quit): ');
        type('hello\n');
        await waitFor('Message from server: hello');
        await waitFor('Input message(Q to quit): ');
        type('Q\n');
      },
    );
    assert.equal(code, 0, output);
    assert.match(
      output,
      /^Input message\(Q to quit\): hello\nMessage from server: hello\nInput message\(Q to quit\): Q\n/,
    );
  });

  test('uclient --service echo prompts "Insert message(q to quit): " and answers each line', async (t) => {
    const server = await startServer('userver', ['--service', 'echo', '--host', '127.0.0.1', '0']);
    t.after(() => server.stop());
    const { code, output } = await onTerminal(
      `${binPath('uclient')} --service echo 127.0.0.1 ${server.port}`,
      async (_output, type, waitFor) => {
        await waitFor('Insert message(q to quit): ');
        type('안녕하세요\n');
        await waitFor('Message from server: 안녕하세요');
        await waitFor('Insert message(q to quit): ');
        type('q\n');
      },
    );
    assert.equal(code, 0, output);
    assert.match(output, /Insert message\(q to quit\): 안녕하세요\nMessage from server: 안녕하세요\n/);
    assert.match(output, /Insert message\(q to quit\): q\n$/);
  });
});
