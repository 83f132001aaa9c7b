import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { KernelReader } from '../../src/view/kernel-reader.js';
import * as rows from '../fixtures/proc-net-rows.js';

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
