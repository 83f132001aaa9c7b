import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { KernelReader, kernelKey } from '../../src/view/kernel-reader.js';
import * as rows from '../fixtures/proc-net-rows.js';
import * as ssOutput from '../fixtures/ss-output.js';

describe('the kernel reader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'socket-steps-proc-'));
  const tcp = join(dir, 'tcp');
  const tcp6 = join(dir, 'tcp6');
  writeFileSync(
    tcp,
    [rows.HEADER_TCP, rows.IPV4_LISTEN_QUEUED, rows.IPV4_CLOSE_WAIT, rows.IPV4_TIME_WAIT, ''].join('\n'),
  );
  writeFileSync(tcp6, [rows.HEADER_TCP6, rows.IPV6_TIME_WAIT, rows.IPV4_MAPPED_FIN_WAIT2, ''].join('\n'));
  // The dual-stack server's connection: its side in tcp6 (IPv4-mapped), the client's in tcp.
  const mapped = {
    local: { address: '::ffff:127.0.0.1', port: 0xb3d5 },
    remote: { address: '::ffff:127.0.0.1', port: 0xcc4a },
  };

  test("both ends of a connection, each in its own table; the listener's queue; the rate", async (t) => {
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    let now = 0;
    const reader = new KernelReader({ files: [tcp, tcp6], ss: false, now: () => now });
    const reading = await reader.read([mapped], [{ address: '127.0.0.1', port: 0xb3d5 }], 200);
    assert.equal(reading.available, true);
    assert.deepEqual(reader.states(reading, mapped), { server: 'FIN_WAIT2', client: 'CLOSE_WAIT' });
    assert.equal(reader.acceptQueue(reading, { address: '127.0.0.1', port: 0xb3d5 }), 2);
    assert.equal(reader.acceptQueue(reading, { address: '127.0.0.1', port: 1 }), 'unknown');
    // A connection the reading did not look for: no answer rather than 'gone'.
    const other = { local: { address: '::1', port: 0x987d }, remote: { address: '::1', port: 0xbd7e } };
    assert.equal(reader.states(reading, other), undefined);
    // Within maxAge the same reading answers; a new one waits for the rate (at most 5 a second).
    now = 100;
    assert.equal(await reader.read([other], [], 200), reading);
    const started = performance.now();
    const next = await reader.read([other], [], 0);
    assert.notEqual(next, reading);
    assert.ok(performance.now() - started >= 90, 'the second read waited for its turn');
    assert.deepEqual(reader.states(next, other), { server: 'TIME_WAIT', client: 'gone' });
  });

  test("a peer on another host: 'unknown', never 'gone'; no tables: everything 'unknown'", async () => {
    const d = mkdtempSync(join(tmpdir(), 'socket-steps-proc-'));
    try {
      const file = join(d, 'tcp');
      writeFileSync(file, `${rows.HEADER_TCP}\n`);
      const reader = new KernelReader({ files: [file], ss: false, isLocalAddress: (a) => a === '127.0.0.1' });
      const far = { local: { address: '127.0.0.1', port: 80 }, remote: { address: '192.0.2.7', port: 5000 } };
      const near = {
        local: { address: '127.0.0.1', port: 80 },
        remote: { address: '127.0.0.1', port: 5000 },
      };
      const reading = await reader.read([far, near], [], 0);
      assert.deepEqual(reader.states(reading, far), { server: 'gone', client: 'unknown' });
      assert.deepEqual(reader.states(reading, near), { server: 'gone', client: 'gone' });
      const none = new KernelReader({ files: [join(d, 'missing')], ss: false });
      const empty = await none.read([near], [], 0);
      assert.equal(empty.available, false);
      assert.deepEqual(none.states(empty, near), { server: 'unknown', client: 'unknown' });
      assert.equal(none.acceptQueue(empty, near.local), 'unknown');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe("the kernel reader with ss (a program printing ss's captured output, so the rows are known)", () => {
  // A stand-in for ss: prints a capture of the real one, and says where its own PID went.
  function fakeSs(dir: string, body: string): string {
    const file = join(dir, 'ss');
    writeFileSync(file, `#!/bin/sh\necho $$ > "${dir}/pid"\n${body}\n`, { mode: 0o755 });
    return file;
  }
  const mappedServer = {
    local: { address: '::ffff:127.0.0.1', port: 39265 },
    remote: { address: '::ffff:127.0.0.1', port: 39166 },
  };
  const v6 = { local: { address: '::1', port: 34439 }, remote: { address: '::1', port: 60316 } };
  const linkLocal = {
    local: { address: 'fe80::fc:ff:fe00:1%eth0', port: 39589 },
    remote: { address: 'fe80::fc:ff:fe00:1%eth0', port: 45176 },
  };
  const queued = {
    local: { address: '127.0.0.1', port: 38971 },
    remote: { address: '127.0.0.1', port: 55778 },
  };

  test('both ends of each connection, IPv4-mapped, IPv6 and link-local; the accept queues', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'socket-steps-ss-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const output = join(dir, 'out');
    writeFileSync(output, ssOutput.SS_MIXED + ssOutput.SS_LISTEN_QUEUED);
    const reader = new KernelReader({ ss: fakeSs(dir, `cat "${output}"`), files: [] });
    assert.equal(reader.source, 'ss');
    const listening = [
      { address: '::', port: 39265 },
      { address: '127.0.0.1', port: 38971 },
      { address: '127.0.0.1', port: 35009 },
    ];
    const reading = await reader.read([mappedServer, v6, linkLocal, queued], listening, 0);
    assert.equal(reading.source, 'ss');
    assert.equal(reading.available, true);
    assert.deepEqual(reader.states(reading, mappedServer), { server: 'FIN_WAIT2', client: 'CLOSE_WAIT' });
    assert.deepEqual(reader.states(reading, v6), { server: 'TIME_WAIT', client: 'gone' });
    assert.deepEqual(reader.states(reading, linkLocal), { server: 'ESTABLISHED', client: 'ESTABLISHED' });
    assert.deepEqual(reader.states(reading, queued), { server: 'ESTABLISHED', client: 'ESTABLISHED' });
    assert.equal(reading.rows.get(kernelKey(queued.local, queued.remote))?.rxQueue, 14);
    assert.equal(reader.acceptQueue(reading, { address: '::', port: 39265 }), 0, "ss's `*` is the wildcard");
    assert.equal(reader.acceptQueue(reading, { address: '127.0.0.1', port: 35009 }), 2);
    assert.equal(reader.acceptQueue(reading, { address: '127.0.0.2', port: 35009 }), 'unknown');
    // A connection the reading did not look for stays unread: no answer, not 'gone'.
    const later = { local: { address: '127.0.0.1', port: 38971 }, remote: { address: '127.0.0.1', port: 1 } };
    assert.equal(reader.states(reading, later), undefined);
    assert.equal(reader.reads, 1);
    assert.equal(reader.failures, 0);
  });

  test('an ss that hangs is killed by its PID at the timeout; that read comes from /proc; after 3 failures, /proc only', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'socket-steps-ss-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const tcp = join(dir, 'tcp');
    writeFileSync(tcp, [rows.HEADER_TCP, rows.IPV4_CLOSE_WAIT, ''].join('\n'));
    const reader = new KernelReader({
      ss: fakeSs(dir, 'exec sleep 30'),
      ssTimeout: 150,
      files: [tcp],
      // The pace is another test's: here each read may follow the last at once.
      maxReadsPerSecond: 1000,
      readSpacing: 0,
    });
    const client = {
      local: { address: '127.0.0.1', port: 0xb3d5 },
      remote: { address: '127.0.0.1', port: 0xcc4a },
    };
    const started = performance.now();
    const first = await reader.read([client], [], 0);
    assert.ok(performance.now() - started < 5_000, 'bounded by the timeout');
    assert.equal(first.source, 'proc');
    assert.deepEqual(reader.states(first, client), { server: 'gone', client: 'CLOSE_WAIT' });
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the hung ss is gone');
    assert.equal(reader.failures, 1);
    assert.equal(reader.source, 'ss', 'one failure: ss gets another chance');
    await reader.read([client], [], 0);
    await reader.read([client], [], 0);
    assert.equal(reader.failures, 3);
    assert.equal(reader.source, 'proc');
    const fourth = await reader.read([client], [], 0);
    assert.equal(fourth.source, 'proc');
    assert.equal(reader.failures, 3, 'ss is not asked again');
  });

  test('an ss that fails or is missing: /proc at once', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'socket-steps-ss-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const tcp = join(dir, 'tcp');
    writeFileSync(tcp, `${rows.HEADER_TCP}\n`);
    const near = { local: { address: '127.0.0.1', port: 80 }, remote: { address: '127.0.0.1', port: 5000 } };
    const failing = new KernelReader({ ss: fakeSs(dir, 'echo nope >&2; exit 1'), files: [tcp] });
    const a = await failing.read([near], [], 0);
    assert.equal(a.source, 'proc');
    assert.deepEqual(failing.states(a, near), { server: 'gone', client: 'gone' });
    const missing = new KernelReader({ ss: join(dir, 'no-such-ss'), files: [tcp] });
    const b = await missing.read([near], [], 0);
    assert.equal(b.source, 'proc');
    assert.equal(missing.source, 'proc', 'a program that cannot start is not asked again');
    const nothing = new KernelReader({ ss: join(dir, 'no-such-ss'), files: [join(dir, 'none')] });
    const c = await nothing.read([near], [], 0);
    assert.equal(c.source, 'none');
    assert.equal(c.available, false);
    assert.equal(nothing.source, 'none');
  });

  test('the pace: never sooner than 20 times the recent reads took (their median), at most maxReadsPerSecond', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'socket-steps-ss-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const tcp = join(dir, 'tcp');
    writeFileSync(tcp, `${rows.HEADER_TCP}\n`);
    // A clock that moves `step` ms at each look: a read looks three times, so it "takes" 2 steps.
    let now = 0;
    let step = 40;
    const reader = new KernelReader({ ss: false, files: [tcp], now: () => (now += step) });
    assert.equal(reader.interval, 200, 'before any read: the rate');
    const reading = await reader.read([], [], 0);
    assert.equal(reading.duration, 80);
    assert.equal(reader.interval, 1600, '20 x 80 ms');
    assert.ok(reader.wait > 1000, `${reader.wait} ms to wait`);
    const later = async (ms: number) => {
      now += 1_000_000; // past any wait, so that the next read starts at once
      step = ms / 2;
      return reader.read([], [], 0);
    };
    await later(80);
    // One read slowed by a busy machine does not stall the next ones...
    assert.equal((await later(1000)).duration, 1000);
    assert.equal(reader.interval, 1600, 'the median of 80, 80, 1000');
    // ... but reads that really got slow do, from the second one on.
    const slow = await later(1000);
    assert.equal(reader.interval, 20_000);
    // The next read is due in about 20 s: rather than wait that long, a caller gets the last
    // reading at once (its time says how old it is); /state never hangs on a slow table.
    assert.ok(reader.wait > 1000, `${reader.wait} ms to wait`);
    const reads = reader.reads;
    const answer = await Promise.race([
      reader.read([], [], 0),
      new Promise((resolve) => setTimeout(() => resolve('waited'), 2_000)),
    ]);
    assert.equal(answer, slow, 'the last reading, at once');
    assert.equal(reader.reads, reads, 'no new read');
  });
});
