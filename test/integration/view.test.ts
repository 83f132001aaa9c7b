/**
 * The live view's HTTP server on real sockets: a connection gives the expected /state and SSE
 * events, the kernel's states match `ss -tan` for the same 4-tuple, the limits and methods (404,
 * 405, 503), the heartbeat, extra routes, and streams ending at once on close.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { createEchoServer } from '../../src/services/echo.js';
import { createHelloServer } from '../../src/services/hello.js';
import type { TcpServer } from '../../src/transport/tcp-server.js';
import { KernelReader } from '../../src/view/kernel-reader.js';
import { createViewServer, type ViewServer, type ViewServerOptions } from '../../src/view/view-server.js';
import { needs, TOOLS } from '../helpers/tools.js';
import { getState, openEvents, request, type ViewStateJson, waitForState } from '../helpers/view.js';

interface Setup {
  service: TcpServer;
  view: ViewServer;
  base: string;
  port: number;
}

async function setup(
  make: () => TcpServer,
  service: string,
  options: Partial<ViewServerOptions> = {},
): Promise<Setup> {
  const server = make();
  // Built before the service listens, as the CLI does, so that it sees socket(), bind(), listen().
  const view = createViewServer({
    port: 0,
    transport: 'tcp',
    service,
    target: () => server.address(),
    stats: () => server.snapshot(),
    ...options,
  });
  const address = await server.listen();
  const at = await view.listen();
  return { service: server, view, base: `http://127.0.0.1:${at.port}/`, port: address.port };
}

async function teardown({ service, view }: Setup): Promise<void> {
  await view.close();
  await service.destroy();
}

async function dial(port: number, options: { allowHalfOpen?: boolean } = {}): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1', ...options });
  await once(socket, 'connect');
  return socket;
}

// ss's spelling of the kernel's state names.
const SS_NAMES: Record<string, string> = {
  ESTABLISHED: 'ESTAB',
  SYN_SENT: 'SYN-SENT',
  SYN_RECV: 'SYN-RECV',
  FIN_WAIT1: 'FIN-WAIT-1',
  FIN_WAIT2: 'FIN-WAIT-2',
  TIME_WAIT: 'TIME-WAIT',
  CLOSE_WAIT: 'CLOSE-WAIT',
  LAST_ACK: 'LAST-ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
};

/** What `ss -tan` says of the socket with this local and peer end, or 'gone' without a row. */
function ssState(local: { address: string; port: number }, peer: { address: string; port: number }): string {
  // ss filters by the 4-tuple itself: the whole table may hold many thousand rows (TIME_WAIT).
  const out = execFileSync(
    'ss',
    ['-tan', 'src', `${local.address}:${local.port}`, 'dst', `${peer.address}:${peer.port}`],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  for (const line of out.split('\n').slice(1)) {
    const [state, , , l, p] = line.trim().split(/\s+/);
    if (l === `${local.address}:${local.port}` && p === `${peer.address}:${peer.port}`) return state ?? '';
  }
  return 'gone';
}

type Connection = ViewStateJson['connections'][number];

function ssMatches(c: Connection): boolean {
  const server = ssState(c.local, c.remote);
  const client = ssState(c.remote, c.local);
  return (
    server === (SS_NAMES[c.kernel.server] ?? c.kernel.server) &&
    client === (SS_NAMES[c.kernel.client] ?? c.kernel.client)
  );
}

describe('the live view server', () => {
  test('a connection gives the expected /state and SSE events', async () => {
    const s = await setup(() => createHelloServer({ host: '127.0.0.1', port: 0 }), 'hello');
    try {
      const events = await openEvents(s.base);
      assert.equal(events.status, 200);
      const snapshot = JSON.parse(
        (await events.waitFor((e) => e.event === 'snapshot')).data,
      ) as ViewStateJson;
      assert.deepEqual(snapshot.connections, []);
      const socket = await dial(s.port);
      const local = { address: socket.localAddress, port: socket.localPort };
      socket.resume();
      await once(socket, 'close');
      const update = await events.waitFor((e) => {
        if (e.event !== 'update') return false;
        const c = (JSON.parse(e.data) as ViewStateJson).connections[0];
        return c?.steps.includes('4c') === true;
      });
      assert.ok(update.id !== undefined && Number(update.id) > 0, 'updates carry an id');
      // /state is built at most every 200 ms: wait for one built after the kernel's reading of it.
      const settled = ['TIME_WAIT', 'gone'];
      const state = await waitForState(s.base, (st) => {
        const k = st.connections[0]?.kernel;
        return k !== undefined && settled.includes(k.server) && settled.includes(k.client);
      });
      const [c] = state.connections;
      assert.ok(c);
      assert.deepEqual(c.remote, local);
      assert.deepEqual(c.local, { address: '127.0.0.1', port: s.port });
      assert.deepEqual(c.steps, ['4a', '4b', '4c']);
      assert.equal(c.clientSource, 'server');
      assert.ok(['TIME_WAIT', 'gone'].includes(c.kernel.server), c.kernel.server);
      assert.ok(['TIME_WAIT', 'gone'].includes(c.kernel.client), c.kernel.client);
      assert.equal(state.listen?.port, s.port);
      assert.equal(state.listen?.acceptQueue, 0);
      assert.equal(state.stats?.accepted, 1);
      const raw = JSON.parse((await request(`${s.base}state`)).body) as { kernel: { ageMs: number } };
      assert.ok(raw.kernel.ageMs <= 200, `the kernel reading is ${raw.kernel.ageMs} ms old`);
      const mermaid = await request(`${s.base}mermaid?id=${encodeURIComponent(c.id)}`);
      assert.equal(mermaid.status, 200);
      assert.match(mermaid.body, /^sequenceDiagram\n/);
      assert.match(mermaid.body, /S->>C: write\(\) 13 bytes: "Hello World!\\0"/);
      events.close();
    } finally {
      await teardown(s);
    }
  });

  test("the kernel's states of both ends match ss -tan for the same 4-tuple, at each stage", async () => {
    // echo keeps the connection open until the client shuts down its side.
    const s = await setup(() => createEchoServer({ host: '127.0.0.1', port: 0 }), 'echo');
    try {
      const socket = await dial(s.port, { allowHalfOpen: true });
      socket.resume();
      const local = { address: socket.localAddress, port: socket.localPort };
      const find = (st: ViewStateJson) => st.connections.find((c) => c.remote.port === local.port);
      const established = await waitForState(s.base, (st) => find(st)?.kernel.server === 'ESTABLISHED');
      const open = find(established);
      assert.ok(open);
      assert.deepEqual(open.kernel, { server: 'ESTABLISHED', client: 'ESTABLISHED' });
      assert.ok(
        ssMatches(open),
        `ss: ${ssState(open.local, open.remote)} / ${ssState(open.remote, open.local)}`,
      );
      // The client sends its FIN; the echo server answers with its own and closes: the client,
      // which closed first, waits in TIME_WAIT and the server's row is gone.
      socket.end();
      await once(socket, 'close');
      const closed = await waitForState(s.base, (st) => {
        const c = find(st);
        return c !== undefined && c.kernel.client === 'TIME_WAIT' && c.kernel.server === 'gone';
      });
      const done = find(closed);
      assert.ok(done);
      assert.equal(done.closedFirst, 'client');
      assert.ok(
        ssMatches(done),
        `ss: ${ssState(done.local, done.remote)} / ${ssState(done.remote, done.local)}`,
      );
    } finally {
      await teardown(s);
    }
  });

  test('the server closing first with the client half-open: FIN_WAIT2 and CLOSE_WAIT, as ss says', async () => {
    const s = await setup(() => createHelloServer({ host: '127.0.0.1', port: 0 }), 'hello');
    try {
      const socket = await dial(s.port, { allowHalfOpen: true });
      socket.resume();
      await once(socket, 'end');
      const find = (st: ViewStateJson) => st.connections.find((c) => c.remote.port === socket.localPort);
      // FIN_WAIT1 until the client's ACK of our FIN comes back: wait for the steady pair.
      const half = await waitForState(
        s.base,
        (st) => find(st)?.kernel.client === 'CLOSE_WAIT' && find(st)?.kernel.server === 'FIN_WAIT2',
      );
      const c = find(half);
      assert.ok(c);
      assert.equal(c.kernel.server, 'FIN_WAIT2');
      assert.equal(c.closedFirst, 'server');
      assert.ok(ssMatches(c), `ss: ${ssState(c.local, c.remote)} / ${ssState(c.remote, c.local)}`);
      socket.destroy();
    } finally {
      await teardown(s);
    }
  });

  test('only GET and HEAD (405), unknown paths 404, HEAD without a body, extra routes', async () => {
    const s = await setup(() => createHelloServer({ host: '127.0.0.1', port: 0 }), 'hello', {
      routes: { '/metrics': (_req, res) => res.end('metric 1\n') },
    });
    try {
      for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
        const r = await request(s.base, { method });
        assert.equal(r.status, 405, method);
        assert.equal(r.headers.allow, 'GET, HEAD');
      }
      assert.equal((await request(`${s.base}nope`)).status, 404);
      assert.equal((await request(`${s.base}mermaid?id=none`)).status, 404);
      const page = await request(s.base);
      assert.equal(page.status, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.match(page.body, /data-step="tcp-server-4a"/);
      assert.doesNotMatch(page.body, /(src|href)="?(https?:)?\/\//, 'nothing from another origin');
      const head = await request(s.base, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
      assert.equal(Number(head.headers['content-length']), Buffer.byteLength(page.body));
      const headEvents = await request(`${s.base}events`, { method: 'HEAD' });
      assert.equal(headEvents.status, 200);
      assert.equal(headEvents.body, '');
      assert.equal((await request(`${s.base}metrics`)).body, 'metric 1\n');
      assert.equal((await request(`${s.base}metrics`, { method: 'POST' })).status, 405);
      // The buttons: only with the page's header, and only against this server.
      assert.equal((await request(`${s.base}run`)).status, 403);
      const run = await request(`${s.base}run`, { headers: { 'X-Socket-Steps': 'run' } });
      assert.equal(run.status, 200);
      assert.equal(run.body, 'Message from server: Hello World!\n');
      // DNS rebinding: a loopback view answers only requests addressed to loopback.
      assert.equal((await request(s.base, { headers: { host: 'evil.example:80' } })).status, 403);
    } finally {
      await teardown(s);
    }
  });

  test('at most 32 streams: the 33rd gets 503; a heartbeat on each; close() ends them at once', async () => {
    const s = await setup(() => createHelloServer({ host: '127.0.0.1', port: 0 }), 'hello', {
      heartbeat: 50,
    });
    const streams = [];
    for (let i = 0; i < 32; i++) streams.push(await openEvents(s.base));
    assert.ok(streams.every((st) => st.status === 200));
    const extra = await request(`${s.base}events`);
    assert.equal(extra.status, 503);
    assert.equal(s.view.streams, 32);
    const [first] = streams;
    assert.ok(first);
    await first.waitFor((e) => e.event === 'snapshot');
    const deadline = Date.now() + 5_000;
    while (!first.comments.includes(': ping') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.ok(first.comments.includes(': ping'), 'a heartbeat');
    const started = performance.now();
    await s.view.close();
    await Promise.all(streams.map((st) => st.ended));
    assert.ok(performance.now() - started < 1_000, 'closing did not wait for the streams');
    await s.service.destroy();
  });

  test("an error in the view is the view's alone: the service goes on", async () => {
    const errors: unknown[] = [];
    const s = await setup(() => createHelloServer({ host: '127.0.0.1', port: 0 }), 'hello', {
      stats: () => {
        throw new Error('stats broke');
      },
      onError: (error) => errors.push(error),
    });
    try {
      const state = await getState(s.base);
      assert.equal(state.stats, undefined);
      assert.ok(errors.length > 0);
      const socket = await dial(s.port);
      socket.resume();
      await once(socket, 'close');
      assert.equal(s.service.accepted, 1);
      await waitForState(s.base, (st) => st.connections.length === 1);
    } finally {
      await teardown(s);
    }
  });

  test('a view on ::1', async () => {
    const server = createHelloServer({ host: '::1', port: 0 });
    const view = createViewServer({
      host: '::1',
      port: 0,
      transport: 'tcp',
      service: 'hello',
      target: () => server.address(),
    });
    await server.listen();
    const at: AddressInfo = await view.listen();
    try {
      assert.equal(at.address, '::1');
      const state = await getState(`http://[::1]:${at.port}/`);
      assert.equal(state.listen?.address, '::1');
    } finally {
      await view.close();
      await server.destroy();
    }
  });

  test(
    '32 clients polling /state cost no more than one: at most one build and one kernel read per 200 ms',
    needs(TOOLS.ss),
    async () => {
      let statsCalls = 0;
      const s = await setup(() => createHelloServer({ host: '127.0.0.1', port: 0 }), 'hello', {
        stats: () => {
          statsCalls++;
          return s.service.snapshot();
        },
      });
      try {
        const socket = await dial(s.port);
        socket.resume();
        await once(socket, 'close');
        const reader = s.view.kernel;
        assert.ok(reader);
        const builds = s.view.snapshotBuilds;
        const reads = reader.reads;
        const calls = statsCalls;
        const started = performance.now();
        let answers = 0;
        const bodies = new Set<string>();
        // 32 pollers, each asking again as soon as it has its answer: bounded in count and time.
        await Promise.all(
          Array.from({ length: 32 }, async () => {
            for (let i = 0; i < 40 && performance.now() - started < 1_000; i++) {
              const r = await request(`${s.base}state`);
              assert.equal(r.status, 200);
              bodies.add(r.body);
              answers++;
            }
          }),
        );
        const windows = Math.ceil((performance.now() - started) / 200) + 1;
        const built = s.view.snapshotBuilds - builds;
        assert.ok(answers >= 64, `${answers} answers`);
        assert.ok(built <= windows, `${built} builds for ${answers} answers in ${windows} windows of 200 ms`);
        assert.ok(reader.reads - reads <= windows, `${reader.reads - reads} kernel reads`);
        assert.ok(statsCalls - calls <= windows, `${statsCalls - calls} stats readings`);
        assert.ok(bodies.size <= built, 'every answer is one of the builds, byte for byte');
        const state = JSON.parse([...bodies][0] ?? '{}') as ViewStateJson;
        assert.equal(state.kernel.source, 'ss');
      } finally {
        await teardown(s);
      }
    },
  );

  test('without ss: the same states from /proc, and /state says where they came from', async () => {
    const s = await setup(() => createHelloServer({ host: '127.0.0.1', port: 0 }), 'hello', {
      kernel: new KernelReader({ ss: false }),
    });
    try {
      const socket = await dial(s.port);
      const port = socket.localPort;
      socket.resume();
      await once(socket, 'close');
      const state = await waitForState(s.base, (st) => {
        const k = st.connections.find((c) => c.remote.port === port)?.kernel;
        return k?.server === 'TIME_WAIT' && k.client === 'gone';
      });
      assert.equal(state.kernel.source, 'proc');
    } finally {
      await teardown(s);
    }
  });

  test("a finished connection's real kernel states reach the page within 1 s", needs(TOOLS.ss), async () => {
    const s = await setup(() => createHelloServer({ host: '127.0.0.1', port: 0 }), 'hello');
    try {
      const events = await openEvents(s.base);
      await events.waitFor((e) => e.event === 'snapshot');
      const socket = await dial(s.port);
      const port = socket.localPort;
      socket.resume();
      await once(socket, 'close');
      const ended = performance.now();
      await events.waitFor((e) => {
        if (e.event !== 'update') return false;
        const c = (JSON.parse(e.data) as ViewStateJson).connections.find((x) => x.remote.port === port);
        return c?.kernel.server === 'TIME_WAIT' && c.kernel.client === 'gone';
      });
      const ms = performance.now() - ended;
      assert.ok(ms < 1_000, `the real states came ${ms.toFixed(0)} ms after the connection's end`);
      events.close();
    } finally {
      await teardown(s);
    }
  });

  test(
    'the kernel is read only while a shown connection can still change; a new one starts the reads again',
    needs(TOOLS.ss),
    async () => {
      const s = await setup(() => createEchoServer({ host: '127.0.0.1', port: 0 }), 'echo');
      try {
        const events = await openEvents(s.base);
        await events.waitFor((e) => e.event === 'snapshot');
        const reader = s.view.kernel;
        assert.ok(reader);
        // A reset: both sockets go at once, no TIME_WAIT left to wait for.
        const socket = await dial(s.port);
        const port = socket.localPort;
        socket.on('error', () => {});
        socket.resetAndDestroy();
        const gone = (e: { event: string; data: string }, p: number | undefined) => {
          if (e.event !== 'update') return false;
          const c = (JSON.parse(e.data) as ViewStateJson).connections.find((x) => x.remote.port === p);
          return c?.kernel.server === 'gone' && c.kernel.client === 'gone';
        };
        await events.waitFor((e) => gone(e, port));
        const reads = reader.reads;
        // Nothing can change any more: an observation window of 700 ms (3 reads at the full rate).
        await new Promise((resolve) => setTimeout(resolve, 700));
        assert.equal(reader.reads, reads, 'no reads while every shown connection has settled');
        const next = await dial(s.port);
        const nextPort = next.localPort;
        next.on('error', () => {});
        next.resetAndDestroy();
        await events.waitFor((e) => gone(e, nextPort));
        assert.ok(reader.reads > reads, 'the new connection was read');
        events.close();
      } finally {
        await teardown(s);
      }
    },
  );

  test('updates are coalesced: at most 10 a second however many connections come', async () => {
    const s = await setup(() => createHelloServer({ host: '127.0.0.1', port: 0 }), 'hello');
    try {
      const events = await openEvents(s.base);
      await events.waitFor((e) => e.event === 'snapshot');
      const started = performance.now();
      // 300 connections, 20 at a time: bounded in count and time.
      for (let round = 0; round < 15 && performance.now() - started < 10_000; round++) {
        await Promise.all(
          Array.from({ length: 20 }, async () => {
            const socket = await dial(s.port);
            socket.resume();
            await once(socket, 'close');
          }),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
      const seconds = (performance.now() - started) / 1000;
      const updates = events.events.filter((e) => e.event === 'update');
      assert.ok(updates.length > 0);
      // One more than the rate allows for the update in flight at each end of the window.
      assert.ok(
        updates.length <= Math.ceil(seconds * 10) + 1,
        `${updates.length} updates in ${seconds.toFixed(2)} s`,
      );
      const sampled = updates.map(
        (u) => (JSON.parse(u.data) as { connections: unknown[] }).connections.length,
      );
      assert.ok(Math.max(...sampled) <= 24, 'each update samples at most 24 connections');
      events.close();
    } finally {
      await teardown(s);
    }
  });
});
