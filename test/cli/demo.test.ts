/**
 * `npm run demo`: the lecture's run, with its lines in the order the steps happened (merged by
 * their monotonic stamps). stdout and stderr go to one file, as on a terminal.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, testEnv } from '../helpers/process.js';

async function demo(args: string[]): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'socket-steps-demo-'));
  try {
    const file = join(dir, 'out');
    const fd = openSync(file, 'w');
    const child = spawn(process.execPath, ['scripts/demo.js', ...args], {
      cwd: ROOT,
      stdio: ['ignore', fd, fd],
      env: testEnv(),
    });
    closeSync(fd);
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(killer);
    return { code, output: readFileSync(file, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The demo's trace lines carry their time since the first event and come in that order; the note
 * on a server that went ahead of connect() is there exactly when the server's accept() line comes
 * before the client's connect() line.
 */
function checkMerged(output: string, lang: 'en' | 'ko'): void {
  const lines = output.split('\n');
  const events = lines.filter((l) => /^\s*\+\d+\.\d{3} ms \[/.test(l));
  assert.ok(events.length >= 11, output);
  const times = events.map((l) => Number(/\+(\d+\.\d{3}) ms/.exec(l)?.[1]));
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
    output,
  );
  assert.equal(times[0], 0);
  const [server, client] = lang === 'ko' ? ['서버', '클라이언트'] : ['server', 'client'];
  const accept = lines.findIndex((l) => l.includes(`[${server}] 4a `));
  const connect = lines.findIndex((l) => l.includes(`[${client}] 2 `));
  const note = lines.findIndex((l) => /^\s+(note: the server's|참고: 클라이언트 프로세스가)/.test(l));
  if (accept < connect) {
    assert.equal(note, connect - 1, `the note just before connect():\n${output}`);
    assert.match(lines[note] ?? '', /accept\(\)/);
  } else {
    assert.equal(note, -1, `no note when connect() came first:\n${output}`);
  }
}

describe('npm run demo', () => {
  test('--trace: the steps in the order they happened, client and server interleaved', async () => {
    const { code, output } = await demo(['--trace']);
    assert.equal(code, 0, output);
    const at = (text: string) => {
      const index = output.indexOf(text);
      assert.notEqual(index, -1, `${text} in\n${output}`);
      return index;
    };
    assert.ok(at('[server] 3 listen()') < at('[client] 1 socket()'));
    assert.ok(at('[server] 4a accept()') < at('[client] 3 read()'), output);
    assert.ok(at('[server] 4b write()') < at('[client] 3 read()'), output);
    assert.ok(at('[client] 2 connect()') < at('Message from server: Hello World! '), output);
    assert.ok(at('[client] 4 close()') < at('[server] 5 close()'), output);
    assert.match(output, /hserver exited with 0, hclient with 0\n$/);
    checkMerged(output, 'en');
  });

  test('--trace --lang ko: merged by stamp too, in Korean', async () => {
    const { code, output } = await demo(['--trace', '--lang', 'ko']);
    assert.equal(code, 0, output);
    assert.match(output, /\[서버\] 4a 연결요청에 대한 수락 accept\(\)/);
    checkMerged(output, 'ko');
    // The demo's own words are Korean too.
    assert.match(output, /# 포트 0: 시스템이 빈 포트를 고름; --trace-format json: /);
    assert.match(output, /# SIGTERM: 새 연결을 받지 않고, 마무리하고, 닫음 \(5단계\)\n/);
    assert.match(output, /hserver 종료 코드 0, hclient 종료 코드 0\n$/);
    assert.doesNotMatch(output, /the system picks|stop accepting|exited with/);
  });

  test('server options go to the server only: --count 1 serves the one client and ends', async () => {
    const { code, output } = await demo(['--count', '1']);
    assert.equal(code, 0, output);
    assert.doesNotMatch(output, /unknown option/);
    assert.match(output, /^\$ bin\/hclient 127\.0\.0\.1 \d+$/m);
    assert.match(output, /Message from server: Hello World! \n/);
    assert.match(output, /hserver exited with 0, hclient with 0\n$/);
  });
});
