/**
 * Supervision as a library: a WorkerSupervisor in this process runs hello servers in worker
 * processes (test/fixtures/worker-server.js); their trace events and stats reach this process.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { mergeStats, WorkerSupervisor } from '../../src/cluster/workers.js';
import { fetchHello, subscribeTrace, type TraceEvent } from '../../src/index.js';
import { ROOT } from '../helpers/process.js';

const WORKER = `${ROOT}dist/test/fixtures/worker-server.js`;

describe('WorkerSupervisor', () => {
  test("the workers' trace events reach the primary's subscribers, each naming its worker; stats add up", async (t) => {
    const events: TraceEvent[] = [];
    const unsubscribe = subscribeTrace((event) => events.push(event));
    t.after(unsubscribe);
    const supervisor = new WorkerSupervisor({
      count: 2,
      port: 0,
      exec: WORKER,
      args: [],
      forwardTrace: true,
    });
    t.after(() => supervisor.destroy());
    const { port } = await supervisor.start();
    assert.equal(supervisor.pids.length, 2);
    for (let i = 0; i < 40; i++) {
      assert.equal((await fetchHello({ host: '127.0.0.1', port })).text, 'Hello World!');
    }
    // Each worker's 40 writes arrive over IPC; wait for them (bounded by the test's timeout).
    const writes = () => events.filter((e) => e.role === 'server' && e.action === 'write');
    while (writes().length < 40) await new Promise((r) => setTimeout(r, 10));
    const workers = new Set(writes().map((e) => e.worker));
    assert.deepEqual([...workers].sort(), [...supervisor.pids].sort(), 'every worker served and traced');
    assert.ok(writes().every((e) => e.transport === 'tcp' && e.bytes === 13));

    const stats = await supervisor.stats();
    assert.equal(stats.length, 2);
    const total = mergeStats(stats);
    assert.equal(total?.accepted, 40);
    assert.equal(total?.bytesOut, 40 * 13);
    assert.ok(stats.every((s) => s.accepted > 0));
    // Counts add up; a high-water mark is the largest of the workers', not their sum.
    const [a, b] = stats;
    assert.ok(a && b);
    const merged = mergeStats([
      { ...a, outcomes: { pauses: 2, 'peak-buffered-bytes': 700 } },
      { ...b, outcomes: { pauses: 3, 'peak-buffered-bytes': 500 } },
    ]);
    assert.deepEqual(merged?.outcomes, { pauses: 5, 'peak-buffered-bytes': 700 });

    await supervisor.stop();
    assert.equal(supervisor.failed, false);
    assert.deepEqual(supervisor.pids, []);
  });

  test('a worker stopped with SIGSTOP answers no heartbeat: killed and replaced, its exit says how long it was silent', async (t) => {
    const exits: { pid: number; hungFor?: number; outcome: string }[] = [];
    const supervisor = new WorkerSupervisor({
      count: 2,
      port: 0,
      exec: WORKER,
      args: [],
      heartbeatInterval: 50,
      heartbeatTimeout: 300,
      onWorkerExit: (exit) => exits.push(exit),
    });
    t.after(() => supervisor.destroy());
    const { port } = await supervisor.start();
    const [stopped] = supervisor.pids as [number];
    process.kill(stopped, 'SIGSTOP');
    t.after(() => {
      if (supervisor.pids.includes(stopped)) process.kill(stopped, 'SIGKILL');
    });
    // Bounded by the test's timeout: the supervisor kills it within about 350 ms.
    while (exits.length === 0) await new Promise((r) => setTimeout(r, 10));
    const [exit] = exits as [(typeof exits)[number]];
    assert.equal(exit.pid, stopped);
    assert.equal(exit.outcome, 'replaced');
    assert.ok(
      exit.hungFor !== undefined && exit.hungFor >= 300 && exit.hungFor < 2000,
      `hungFor ${exit.hungFor}`,
    );
    while (supervisor.pids.length < 2) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await fetchHello({ host: '127.0.0.1', port })).text, 'Hello World!');
    assert.throws(
      () => new WorkerSupervisor({ count: 1, port: 0, heartbeatTimeout: 0 }),
      /invalid heartbeatTimeout '0'/,
    );
  });

  test('a stop sent down the channel of a worker that died a moment ago: no unhandled EPIPE, the exit is counted', async (t) => {
    const supervisor = new WorkerSupervisor({ count: 2, port: 0, exec: WORKER, args: [] });
    t.after(() => supervisor.destroy());
    await supervisor.start();
    const [dead] = supervisor.pids as [number];
    process.kill(dead, 'SIGKILL');
    // Synchronously, so that this process has not yet seen the death (its channel still reads
    // as connected): wait until the kernel has made it a zombie, which closed its end of the pipe.
    const until = Date.now() + 2000;
    while (!/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${dead}/stat`, 'latin1'))) {
      assert.ok(Date.now() < until, `worker ${dead} did not die within 2 s`);
    }
    // The write to the dead worker fails with EPIPE: taken, not thrown at this process.
    void supervisor.stop();
    void supervisor.destroy();
    await supervisor.closed;
    assert.deepEqual(supervisor.pids, []);
    assert.equal(supervisor.failed, true, 'a worker killed while stopping is a failure');
  });

  test('a port someone holds: start() rejects with the probe error and no worker starts', async () => {
    const supervisor = new WorkerSupervisor({
      count: 2,
      port: 1,
      exec: WORKER,
      probe: () => Promise.reject(Object.assign(new Error('held'), { code: 'ERR_BIND' })),
    });
    await assert.rejects(supervisor.start(), /held/);
    await supervisor.closed;
    assert.equal(supervisor.failed, true);
    assert.deepEqual(supervisor.pids, []);
  });
});
