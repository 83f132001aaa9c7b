/**
 * Merging real traces of two processes: the monotonic stamp is one clock across processes, and
 * a real run in which the server goes ahead of the client's connect() is merged in stamp order
 * with the line that explains it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fetchHello } from '../../src/services/hello.js';
import { subscribeTrace } from '../../src/trace/events.js';
import { earlyServerNote, formatMerged, parseTraceLine, type StampedLine } from '../../src/trace/merge.js';
import type { TraceEvent } from '../../src/trace/schema.js';
import { binPath, testEnv } from '../helpers/process.js';

describe('the trace stamp', () => {
  test('process.hrtime.bigint() is one clock for every process: a child’s stamp falls between ours', () => {
    for (let i = 0; i < 3; i++) {
      const before = process.hrtime.bigint();
      const child = BigInt(
        execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.hrtime.bigint()))'], {
          encoding: 'utf8',
          timeout: 10_000,
        }),
      );
      const after = process.hrtime.bigint();
      assert.ok(before < child && child < after, `${before} < ${child} < ${after}`);
    }
  });
});

describe('merging a real run', () => {
  test('the server accepts, writes and closes before the client sees connect(): merged by stamp, with the note', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'socket-steps-merge-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // The server's stderr goes to a file, so that this process can read it while its own event
    // loop is blocked.
    const file = join(dir, 'server.err');
    const fd = openSync(file, 'w');
    const server = spawn(binPath('hserver'), ['--trace-format', 'json', '--host', '127.0.0.1', '0'], {
      stdio: ['ignore', 'ignore', fd],
      env: testEnv(),
    });
    closeSync(fd);
    const exited = once(server, 'exit');
    t.after(() => {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    });
    const serverLines = () => readFileSync(file, 'utf8').split('\n').filter(Boolean);
    // Bounded waits that block this event loop (the point: our connect() completion waits too).
    const blockUntil = (check: () => boolean, what: string) => {
      const deadline = performance.now() + 10_000;
      while (!check()) {
        if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      }
    };
    let port = 0;
    await new Promise<void>((resolve, reject) => {
      const deadline = performance.now() + 10_000;
      const poll = () => {
        const match = /listening on 127\.0\.0\.1:(\d+)/.exec(readFileSync(file, 'utf8'));
        if (match) {
          port = Number(match[1]);
          resolve();
        } else if (performance.now() > deadline || server.exitCode !== null) {
          reject(new Error(`hserver did not start: ${readFileSync(file, 'utf8')}`));
        } else setTimeout(poll, 10);
      };
      poll();
    });

    const clientEvents: TraceEvent[] = [];
    const unsubscribe = subscribeTrace((event) => clientEvents.push(event));
    let reply: Awaited<ReturnType<typeof fetchHello>>;
    try {
      const fetching = fetchHello({ host: '127.0.0.1', port });
      // Node issues connect() on the next tick; once it has, block this loop until the server has
      // accepted, written and closed: the kernel completes the handshake without us.
      await new Promise((resolve) => process.nextTick(resolve));
      blockUntil(
        () => serverLines().some((l) => parseTraceLine(l)?.action === 'close'),
        "the server's close of the connection",
      );
      reply = await fetching;
    } finally {
      unsubscribe();
    }
    assert.equal(reply.text, 'Hello World!');
    server.kill('SIGTERM');
    assert.deepEqual(await exited, [0, null]);

    const lines: StampedLine[] = [];
    serverLines().forEach((text, seq) => {
      const event = parseTraceLine(text);
      if (event !== undefined)
        lines.push({ source: 'server', seq, stampNs: BigInt(event.monotonicNs ?? 0), event });
    });
    clientEvents.forEach((event, seq) => {
      assert.match(event.monotonicNs ?? '', /^\d+$/, 'every event is stamped');
      lines.push({ source: 'client', seq, stampNs: BigInt(event.monotonicNs ?? 0), event });
    });
    const merged = formatMerged(lines);
    const text = merged.join('\n');
    t.diagnostic(`merged:\n${text}`);
    // In stamp order: the times never go back.
    const times = merged.flatMap((l) => {
      const m = /^\s*\+(\d+\.\d{3}) ms /.exec(l);
      return m ? [Number(m[1])] : [];
    });
    assert.equal(times.length, lines.length);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      text,
    );
    const index = (pattern: RegExp) => merged.findIndex((l) => pattern.test(l));
    const connect = index(/\[client\] 2 connect\(\)/);
    assert.ok(index(/\[server\] 4a accept\(\)/) < connect, text);
    assert.ok(index(/\[server\] 4b write\(\)/) < connect, text);
    assert.ok(index(/\[server\] 4c close\(\)/) < connect, text);
    assert.equal(
      merged[connect - 1]?.trim(),
      earlyServerNote(['accept()', 'write()', 'close()'], 'en'),
      text,
    );
    const ko = formatMerged(lines, 'ko');
    assert.equal(
      ko[ko.findIndex((l) => /\[클라이언트\] 2 /.test(l)) - 1]?.trim(),
      earlyServerNote(['accept()', 'write()', 'close()'], 'ko'),
    );
  });
});
