/**
 * hserver with --view at a descriptor limit of 128 (set by the shell that execs it, hard and soft:
 * Node raises the soft limit to the hard one): connections to the view that never finish their
 * headers must not take the service's descriptors, the view keeps answering, and they are closed
 * within the headers' timeout; when descriptors do run short, the view refuses visibly (EMFILE).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { HTTP_HEADERS_TIMEOUT_MS } from '../../src/defaults.js';
import { greet } from '../../src/index.js';
import { binPath, type StartedServer, startServer } from '../helpers/process.js';
import { closedWithin, halfSentRequests } from '../helpers/raw.js';
import { request, VIEW_READY } from '../helpers/view.js';
import { until } from '../helpers/wait.js';

const BASH = '/bin/bash';

async function startLimited(args: string): Promise<StartedServer & { viewPort: number }> {
  assert.ok(existsSync(BASH), 'bash is needed (Debian package: bash)');
  const server = await startServer(
    BASH,
    ['-c', `ulimit -Hn 128 -Sn 128 && exec "${binPath('hserver')}" ${args}`],
    { readyPattern: VIEW_READY },
  );
  const viewPort = Number(/view on http:\/\/[^/]*:(\d+)\//.exec(server.stderr())?.[1]);
  const port = Number(/listening on .*:(\d+)\n/.exec(server.stderr())?.[1]);
  return { ...server, port, viewPort };
}

const openFds = (pid: number | undefined): number => readdirSync(`/proc/${pid}/fd`).length;

describe('hserver --view at a descriptor limit of 128', () => {
  test('110 view connections that never finish their headers: greet clients served, /state answers, all closed in time', async (t) => {
    const server = await startLimited('--service greet --host 127.0.0.1 --view 0 0');
    t.after(() => server.stop());
    const started = performance.now();
    const stuck = await halfSentRequests(server.viewPort, 110);
    const closed = stuck.map((s) => closedWithin(s, 15_000));
    // 20 greet clients at once, while the stuck connections hold every place the view gives them.
    const dialogues = await Promise.all(
      Array.from({ length: 20 }, () => greet({ host: '127.0.0.1', port: server.port, timeout: 3_000 })),
    );
    assert.ok(
      dialogues.every((d) => d.lines.length === 3),
      'every greet dialogue completed',
    );
    const state = await request(`http://127.0.0.1:${server.viewPort}/state`);
    assert.equal(state.status, 200);
    assert.ok(openFds(server.child.pid) <= 128 - 16, `${openFds(server.child.pid)} descriptors open`);
    await Promise.all(closed);
    const elapsed = performance.now() - started;
    assert.ok(
      elapsed < HTTP_HEADERS_TIMEOUT_MS + 2_000,
      `the stuck connections were closed after ${Math.round(elapsed)} ms`,
    );
    assert.doesNotMatch(server.stderr(), /EMFILE/, 'the view never needed the reserve');
    assert.equal((await server.stop()).code, 0);
  });

  test('descriptors short: the view refuses visibly (its own EMFILE line) and the held greet clients keep theirs', async (t) => {
    const server = await startLimited('--service greet --host 127.0.0.1 --view 0 0');
    t.after(() => server.stop());
    // 60 greet clients held open: each says its first line, gets Jane's, and says no more.
    const held = await Promise.all(
      Array.from({ length: 60 }, async () => {
        const socket = connect({ port: server.port, host: '127.0.0.1' });
        socket.on('error', () => {});
        await once(socket, 'connect');
        socket.write("Hi. I'm Bob.\n");
        await once(socket, 'data');
        return socket;
      }),
    );
    t.after(() => {
      for (const socket of held) socket.destroy();
    });
    const stuck = await halfSentRequests(server.viewPort, 40);
    t.after(() => {
      for (const socket of stuck) socket.destroy();
    });
    await until(
      () =>
        /hserver: --view: accept\(\) error: too many open files \(EMFILE\); \d+ connections? refused/.test(
          server.stderr(),
        ),
      'the view to say it refused connections for lack of descriptors',
      5_000,
    );
    assert.match(server.stderr(), /\(descriptor limit 128: raise it with ulimit -n/);
    assert.ok(openFds(server.child.pid) <= 128 - 16, `${openFds(server.child.pid)} descriptors open`);
    assert.ok(
      held.every((s) => !s.destroyed),
      'every held greet client still has its connection',
    );
    assert.doesNotMatch(server.stderr(), /hserver: accept\(\) error/, 'the service refused nobody');
    for (const socket of held) socket.destroy();
    assert.equal((await server.stop()).code, 0);
  });

  test('the view full and the service too: the service refuses visibly, the process never runs out', async (t) => {
    const server = await startLimited('--service greet --host 127.0.0.1 --view 0 0');
    t.after(() => server.stop());
    const stuck = await halfSentRequests(server.viewPort, 110);
    t.after(() => {
      for (const socket of stuck) socket.destroy();
    });
    // 70 greet clients held at once: more than the service's room once the view holds its 47.
    let served = 0;
    let refused = 0;
    const dropped: string[] = [];
    const clients = await Promise.all(
      Array.from({ length: 70 }, async () => {
        const socket = connect({ port: server.port, host: '127.0.0.1' });
        let text = '';
        let error: Error | undefined;
        socket.on('data', (chunk: Buffer) => {
          text += chunk;
        });
        // A refusal may come as the ERROR line and then a reset (the server closed with our line
        // unread): that is still a refusal said to the client. A reset with no line is a drop.
        const ended = new Promise<void>((resolve) => {
          socket.once('data', () => resolve());
          socket.once('close', () => resolve());
          socket.on('error', (e) => {
            error = e;
            resolve();
          });
        });
        socket.once('connect', () => socket.write("Hi. I'm Bob.\n"));
        await ended;
        if (text.startsWith('ERROR')) refused++;
        else if (text.length > 0) served++;
        else dropped.push(error === undefined ? 'closed with nothing said' : String(error));
        return socket;
      }),
    );
    t.after(() => {
      for (const socket of clients) socket.destroy();
    });
    // A quarter of the reserve of 32 stays free whatever both sides do.
    assert.ok(openFds(server.child.pid) <= 128 - 8, `${openFds(server.child.pid)} descriptors open`);
    assert.ok(served >= 20, `${served} served`);
    assert.ok(refused > 0, 'some were refused');
    assert.deepEqual(dropped, [], `${served} served, ${refused} refused: none dropped silently`);
    assert.equal(served + refused, 70);
    await until(
      () => /hserver: accept\(\) error: too many open files \(EMFILE\)/.test(server.stderr()),
      "the service's EMFILE line",
      5_000,
    );
    for (const socket of [...clients, ...stuck]) socket.destroy();
    assert.equal((await server.stop()).code, 0);
  });
});
