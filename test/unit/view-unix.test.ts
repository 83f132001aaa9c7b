/**
 * The view's Unix socket connections: ss's rows read into peers, the state that keeps them off
 * the TCP kernel tables, and the page's words for them (no TCP states: the path and the peer).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lectureStep, type TraceEvent } from '../../src/trace/schema.js';
import { kernelLine, rowCells } from '../../src/view/page-script/draw.js';
import { ViewState } from '../../src/view/state.js';
import { parseUnixSsLine, peersFromRows } from '../../src/view/unix-peers.js';

// `ss -xpn` as iproute2 6.x prints it: the server's accepted socket, its client, and others.
const SS_OUTPUT = `Netid State Recv-Q Send-Q  Local Address:Port     Peer Address:Port    Process
u_str ESTAB 0      0      /tmp/ux/v.sock 68381447            * 68380499 users:(("MainThread",pid=19849,fd=23))
u_str ESTAB 0      0                   * 68380499            * 68381447 users:(("socat",pid=19850,fd=5))
u_str ESTAB 0      148480              * 68380485            * 68380484 users:(("node",pid=19832,fd=2))
u_str ESTAB 0      0      @socket-steps-x 777            * 778
`;

describe('ss -xpn rows', () => {
  test('each row: path, inode, peer inode, holders', () => {
    const rows = SS_OUTPUT.split('\n').flatMap((line) => parseUnixSsLine(line) ?? []);
    assert.equal(rows.length, 4);
    assert.deepEqual(rows[0], {
      path: '/tmp/ux/v.sock',
      inode: 68381447,
      peerInode: 68380499,
      users: [{ command: 'MainThread', pid: 19849 }],
    });
    assert.deepEqual(rows[3], { path: '@socket-steps-x', inode: 777, peerInode: 778, users: [] });
  });

  test("an accepted socket's peer is the process holding the socket its row names", () => {
    const rows = SS_OUTPUT.split('\n').flatMap((line) => parseUnixSsLine(line) ?? []);
    const peers = peersFromRows(rows, [68381447, 777, 12345]);
    assert.deepEqual([...peers], [[68381447, { pid: 19850, command: 'socat' }]]);
  });
});

let time = 1_000;
function event(init: Partial<TraceEvent> & Pick<TraceEvent, 'action'>): TraceEvent {
  const full = { transport: 'tcp', role: 'server', endpoint: 1, time: time++, ...init } as TraceEvent;
  return { ...full, step: lectureStep(full.transport, full.role, full.action) };
}

describe('the view state of a Unix socket connection', () => {
  test('its path and peer, no TCP kernel states, and not asked of the TCP tables', () => {
    const state = new ViewState();
    state.apply(event({ action: 'bind', path: '/run/h.sock' }));
    state.apply(event({ action: 'accept', connection: 1, path: '/run/h.sock', inode: 42 }));
    state.apply(event({ action: 'accept', connection: 2, path: '/run/h.sock', inode: 43 }));
    assert.equal(state.listeners()[0]?.path, '/run/h.sock');
    const [second, first] = state.connections();
    assert.deepEqual(first?.unix, { path: '/run/h.sock', inode: 42, peer: 'unread' });
    assert.deepEqual(first?.kernel, { server: 'unknown', client: 'unknown' });
    assert.deepEqual(state.kernelTargets(), []);
    assert.deepEqual(state.unixPeerTargets(), [
      { id: '1-2', inode: 43 },
      { id: '1-1', inode: 42 },
    ]);
    state.applyUnixPeer('1-1', { pid: 4242, uid: 1000, command: 'socat' }, time++);
    state.applyUnixPeer('1-2', 'unknown', time++);
    assert.deepEqual(state.unixPeerTargets(), []);
    assert.equal(second?.unix?.peer, 'unknown');

    assert.equal(kernelLine(first, 'server', 'en'), 'Unix socket: /run/h.sock');
    assert.equal(kernelLine(first, 'client', 'en'), 'peer process: pid 4242, uid 1000 (socat)');
    assert.equal(kernelLine(first, 'server', 'ko'), '유닉스 소켓: /run/h.sock');
    assert.equal(kernelLine(first, 'client', 'ko'), '상대 프로세스: pid 4242, 사용자 1000 (socat)');
    assert.equal(kernelLine(second, 'client', 'ko'), '상대 프로세스: 알 수 없음');
    const cells = rowCells(first ?? assert.fail(), 'en');
    assert.deepEqual(
      cells.map((c) => c.text),
      ['1-1', '/run/h.sock', '4a', '0/0', 'Unix socket', 'pid 4242, uid 1000 (socat)'],
    );
    assert.ok(
      cells.every((c) => !c.state),
      'no cell is drawn as a TCP state',
    );
  });

  test('a TCP connection keeps its kernel states and is not a Unix peer target', () => {
    const state = new ViewState();
    state.apply(
      event({
        action: 'accept',
        connection: 1,
        local: { address: '127.0.0.1', port: 9190, family: 'IPv4' },
        remote: { address: '127.0.0.1', port: 50000, family: 'IPv4' },
      }),
    );
    assert.deepEqual(state.connections()[0]?.kernel, { server: 'unread', client: 'unread' });
    assert.equal(state.connections()[0]?.unix, undefined);
    assert.deepEqual(state.unixPeerTargets(), []);
  });
});
