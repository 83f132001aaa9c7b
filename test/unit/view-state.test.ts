import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatTraceEvent,
  lectureStep,
  type TraceAddress,
  type TraceEvent,
  tracePreview,
} from '../../src/trace/schema.js';
import { mermaidText, toMermaid } from '../../src/view/mermaid.js';
import { ViewState } from '../../src/view/state.js';

const SERVER: TraceAddress = { address: '127.0.0.1', port: 9000, family: 'IPv4' };
const client = (port: number): TraceAddress => ({ address: '127.0.0.1', port, family: 'IPv4' });
const mapped = (a: TraceAddress): TraceAddress => ({
  address: `::ffff:${a.address}`,
  port: a.port,
  family: 'IPv6',
});

let clock = 1_000;
function ev(init: Omit<TraceEvent, 'step' | 'time'>): TraceEvent {
  return { ...init, step: lectureStep(init.transport, init.role, init.action), time: clock++ };
}
const server = (
  action: TraceEvent['action'],
  connection: number | undefined,
  more: Partial<TraceEvent> = {},
) => ev({ transport: 'tcp', role: 'server', action, endpoint: 1, connection, ...more });

function listen(state: ViewState): void {
  state.apply(server('socket', undefined, { combinedIn: 'server.listen()' }));
  state.apply(server('bind', undefined, { local: SERVER, combinedIn: 'server.listen()' }));
  state.apply(server('listen', undefined, { local: SERVER, backlog: 5, combinedIn: 'server.listen()' }));
}

describe('the view state: trace events in, the diagrams out', () => {
  test("the listener's steps 1-3 (in one Node call) and 5", () => {
    const state = new ViewState();
    listen(state);
    const [l] = state.listeners();
    assert.deepEqual(l?.steps, ['1', '2', '3']);
    assert.equal(l?.backlog, 5);
    assert.equal(l?.combinedIn, 'server.listen()');
    assert.deepEqual(l?.local, { address: '127.0.0.1', port: 9000 });
    state.apply(server('stop', undefined));
    assert.deepEqual(state.listeners()[0]?.steps, ['1', '2', '3', '5']);
    assert.equal(state.connections().length, 0);
  });

  test('a hello client from elsewhere: the server steps, and the client column from what the server and kernel see', () => {
    const state = new ViewState();
    listen(state);
    state.apply(server('accept', 1, { local: SERVER, remote: client(5000) }));
    state.apply(server('write', 1, { bytes: 13, text: 'Hello World!\u0000' }));
    state.apply(server('close', 1, { reason: 'done' }));
    const [c] = state.connections();
    assert.ok(c);
    assert.equal(c.id, '1-1');
    assert.deepEqual(c.local, { address: '127.0.0.1', port: 9000 });
    assert.deepEqual(c.remote, { address: '127.0.0.1', port: 5000 });
    assert.deepEqual(c.steps, ['4a', '4b', '4c']);
    assert.deepEqual(c.clientSteps, ['1', '2']);
    assert.equal(c.clientSource, 'server');
    assert.deepEqual(
      c.kernel,
      { server: 'unread', client: 'unread' },
      "not read yet, which is not 'unknown'",
    );
    assert.deepEqual(c.finSent, { server: true, client: false }, 'the clean close() sent the FIN');
    assert.equal(c.open, false);
    assert.equal(c.bytesOut, 13);
    assert.equal(c.closedFirst, undefined, 'the trace alone does not say whose FIN went first');
    assert.deepEqual(
      state.kernelTargets().map((t) => `${t.id}:${t.pace}`),
      ['1-1:changing'],
    );
    state.applyKernel('1-1', { server: 'unread', client: 'unread' }, clock++);
    assert.equal(state.connection('1-1')?.events.length, 3, "'unread' from a reader changes nothing");
    state.applyKernel('1-1', { server: 'gone', client: 'TIME_WAIT' }, clock++);
    state.applyKernel('1-1', { server: 'gone', client: 'TIME_WAIT' }, clock++);
    assert.deepEqual(
      state.kernelTargets().map((t) => `${t.id}:${t.pace}`),
      ['1-1:waiting'],
      'only the end of TIME_WAIT is still to come',
    );
    const after = state.connection('1-1');
    assert.equal(after?.closedFirst, 'client');
    assert.deepEqual(after?.clientSteps, ['1', '2', '3', '4']);
    assert.deepEqual(
      after?.events.filter((e) => e.source === 'kernel').map((e) => `${e.end}:${e.state}`),
      ['server:gone', 'client:TIME_WAIT'],
    );
    // The same states again add nothing.
    state.applyKernel('1-1', { server: 'gone', client: 'TIME_WAIT' }, clock++);
    assert.equal(state.connection('1-1')?.events.length, 5);
    state.applyKernel('1-1', { server: 'gone', client: 'gone' }, clock++);
    state.applyKernel('1-1', { server: 'gone', client: 'gone' }, clock++);
    assert.deepEqual(state.kernelTargets(), [], 'both ends gone: nothing left to read');
  });

  test('from /proc, one reading without a row does not make an end gone; two in a row do', () => {
    const proc = { confirmGone: true };
    const state = new ViewState();
    listen(state);
    state.apply(server('accept', 1, { local: SERVER, remote: client(5100) }));
    state.apply(server('close', 1, { reason: 'done' }));
    state.applyKernel('1-1', { server: 'TIME_WAIT', client: 'gone' }, clock++, proc);
    assert.deepEqual(state.connection('1-1')?.kernel, { server: 'TIME_WAIT', client: 'unread' });
    // A walk of the table that missed the TIME_WAIT row while the client's row really went.
    state.applyKernel('1-1', { server: 'gone', client: 'gone' }, clock++, proc);
    assert.deepEqual(state.connection('1-1')?.kernel, { server: 'TIME_WAIT', client: 'gone' });
    assert.equal(state.kernelTargets().length, 1, 'still read: the server end is not settled');
    // The row is seen again: the miss is forgotten, and one more miss is again not enough.
    state.applyKernel('1-1', { server: 'TIME_WAIT', client: 'gone' }, clock++, proc);
    state.applyKernel('1-1', { server: 'gone', client: 'gone' }, clock++, proc);
    assert.equal(state.connection('1-1')?.kernel.server, 'TIME_WAIT');
    state.applyKernel('1-1', { server: 'gone', client: 'gone' }, clock++, proc);
    assert.deepEqual(state.connection('1-1')?.kernel, { server: 'gone', client: 'gone' });
    assert.deepEqual(state.kernelTargets(), []);
  });

  test('who closed first: an EOF before our own FIN says the peer did; a shutdown alone says nothing (the FINs may cross)', () => {
    const state = new ViewState();
    listen(state);
    // The server shuts down, then reads the client's EOF: whose FIN went first is not known.
    state.apply(server('accept', 1, { local: SERVER, remote: client(5200) }));
    state.apply(server('shutdown', 1));
    state.apply(server('eof', 1));
    assert.deepEqual(state.connection('1-1')?.finSent, { server: true, client: true });
    assert.equal(state.connection('1-1')?.closedFirst, undefined, 'left to the kernel');
    // The kernel: the client waits in TIME_WAIT, the server's end went through LAST_ACK: the client.
    state.applyKernel('1-1', { server: 'LAST_ACK', client: 'TIME_WAIT' }, clock++);
    assert.equal(state.connection('1-1')?.closedFirst, 'client');
    // The client's EOF read before the server sent its FIN: the client closed first.
    state.apply(server('accept', 2, { local: SERVER, remote: client(5201) }));
    state.apply(server('eof', 2));
    state.apply(server('shutdown', 2));
    assert.equal(state.connection('1-2')?.closedFirst, 'client');
  });

  test("with no kernel reader, a TCP connection's ends are 'unknown' from the start, not 'not read yet'", () => {
    const state = new ViewState({ kernelReadable: false });
    listen(state);
    state.apply(server('accept', 1, { local: SERVER, remote: client(5101) }));
    assert.deepEqual(state.connection('1-1')?.kernel, { server: 'unknown', client: 'unknown' });
    assert.deepEqual(state.kernelTargets(), []);
  });

  test('how soon each connection may change: changing, open, waiting, or settled and left out', () => {
    const state = new ViewState();
    listen(state);
    state.apply(server('accept', 1, { local: SERVER, remote: client(5001) }));
    state.apply(server('accept', 2, { local: SERVER, remote: client(5002) }));
    state.apply(server('accept', 3, { local: SERVER, remote: client(5003) }));
    state.apply(
      server('accept', 4, {
        local: { ...SERVER },
        remote: { address: '192.0.2.7', port: 5004, family: 'IPv4' },
      }),
    );
    const paces = () => state.kernelTargets().map((t) => `${t.id}:${t.pace}`);
    assert.deepEqual(
      paces(),
      ['1-1:changing', '1-2:changing', '1-3:changing', '1-4:changing'],
      'none read yet',
    );
    state.applyKernel('1-1', { server: 'ESTABLISHED', client: 'ESTABLISHED' }, clock++);
    state.applyKernel('1-2', { server: 'FIN_WAIT2', client: 'CLOSE_WAIT' }, clock++);
    state.applyKernel('1-3', { server: 'gone', client: 'gone' }, clock++);
    state.applyKernel('1-3', { server: 'gone', client: 'gone' }, clock++);
    state.applyKernel('1-4', { server: 'ESTABLISHED', client: 'unknown' }, clock++);
    assert.deepEqual(paces(), ['1-1:open', '1-2:changing', '1-4:open']);
    // The server closed its side: whatever the kernel said last, the states are about to change.
    state.apply(server('close', 1, { reason: 'done' }));
    state.applyKernel('1-4', { server: 'gone', client: 'unknown' }, clock++);
    state.applyKernel('1-4', { server: 'gone', client: 'unknown' }, clock++);
    assert.deepEqual(paces(), ['1-1:changing', '1-2:changing'], 'a peer elsewhere and a gone end: settled');
  });

  test('a client of this process and the server side of its connection are one record (dual stack too)', () => {
    const state = new ViewState();
    listen(state);
    const c = (action: TraceEvent['action'], more: Partial<TraceEvent> = {}) =>
      ev({ transport: 'tcp', role: 'client', action, endpoint: 7, ...more });
    state.apply(c('socket', { combinedIn: 'net.connect()' }));
    // The server on `::` sees the IPv4 client as IPv4-mapped.
    state.apply(server('accept', 1, { local: mapped(SERVER), remote: mapped(client(5001)) }));
    state.apply(server('write', 1, { bytes: 13 }));
    state.apply(c('connect', { local: client(5001), remote: SERVER }));
    state.apply(server('close', 1));
    state.apply(c('read', { bytes: 13 }));
    state.apply(c('close', { reason: 'done' }));
    const [record] = state.connections();
    assert.equal(state.connections().length, 1);
    assert.equal(record?.clientSource, 'client');
    assert.deepEqual(record?.clientSteps, ['1', '2', '3', '4']);
    assert.deepEqual(
      record?.events.map((e) => `${e.source}:${e.action}`),
      [
        'client:socket',
        'server:accept',
        'server:write',
        'client:connect',
        'server:close',
        'client:read',
        'client:close',
      ],
    );
    // The client connecting first (its connect traced before the accept) links the same way.
    const later = new ViewState();
    listen(later);
    later.apply(ev({ transport: 'tcp', role: 'client', action: 'socket', endpoint: 8 }));
    later.apply(
      ev({
        transport: 'tcp',
        role: 'client',
        action: 'connect',
        endpoint: 8,
        local: client(5002),
        remote: SERVER,
      }),
    );
    later.apply(server('accept', 2, { local: SERVER, remote: client(5002) }));
    assert.equal(later.connections()[0]?.clientSource, 'client');
    assert.deepEqual(later.connections()[0]?.clientSteps, ['1', '2']);
  });

  test('greet: the lines themselves, and the FIN that came first', () => {
    const state = new ViewState();
    listen(state);
    state.apply(server('accept', 1, { local: SERVER, remote: client(5003) }));
    state.apply(server('read', 1, { bytes: 14, text: "Hi. I'm Bob.\n" }));
    state.apply(server('write', 1, { bytes: 19, text: "Hi, Bob. I'm Jane.\n" }));
    state.apply(server('read', 1, { bytes: 25, text: 'Nice to meet you, Jane.\n' }));
    state.apply(server('eof', 1));
    state.apply(server('shutdown', 1));
    state.apply(server('close', 1));
    const c = state.connection('1-1');
    assert.ok(c);
    assert.equal(c.closedFirst, 'client');
    assert.equal(c.bytesIn, 39);
    assert.deepEqual(c.clientSteps, ['1', '2', '3', '4']);
    const text = toMermaid(c);
    assert.match(
      text,
      /^sequenceDiagram\n {2}participant C as client 127\.0\.0\.1:5003\n {2}participant S as server 127\.0\.0\.1:9000\n/,
    );
    assert.match(text, /C->>S: write\(\) → read\(\) 14 bytes: "Hi\. I'm Bob\.\\n"/);
    assert.match(text, /S->>C: write\(\) 19 bytes: "Hi, Bob\. I'm Jane\.\\n"/);
    assert.match(text, /C->>S: FIN \(read\(\) returns 0\)/);
    assert.match(text, /S->>C: shutdown\(\): FIN/);
    assert.match(text, /Note over C,S: client closed first/);
    assert.doesNotMatch(text, /close\(\): FIN/, 'shutdown() sent the FIN already');
    const ko = toMermaid(c, 'ko');
    assert.match(ko, /participant C as 클라이언트 127\.0\.0\.1:5003/);
    assert.match(ko, /연결요청에 대한 수락 accept\(\)/);
    assert.match(ko, /클라이언트가 먼저 닫음/);
  });

  test("which ends sent a FIN: from the trace where it shows it, else from the kernel's states of both ends", () => {
    const state = new ViewState();
    listen(state);
    // echo: the connection still open, then the server's kernel says the client's FIN arrived.
    state.apply(server('accept', 1, { local: SERVER, remote: client(5010) }));
    state.apply(server('read', 1, { bytes: 3 }));
    assert.deepEqual(state.connection('1-1')?.finSent, { server: false, client: false });
    state.applyKernel('1-1', { server: 'CLOSE_WAIT', client: 'FIN_WAIT2' }, clock++);
    assert.deepEqual(state.connection('1-1')?.finSent, { server: false, client: true });
    assert.equal(state.connection('1-1')?.closedFirst, 'client');
    state.applyKernel('1-1', { server: 'gone', client: 'TIME_WAIT' }, clock++);
    state.applyKernel('1-1', { server: 'gone', client: 'TIME_WAIT' }, clock++);
    assert.deepEqual(state.connection('1-1')?.finSent, { server: true, client: true });
    // A close after an error may have been a reset: no FIN claimed for it.
    state.apply(server('accept', 2, { local: SERVER, remote: client(5011) }));
    state.apply(server('close', 2, { reason: 'ECONNRESET' }));
    assert.deepEqual(state.connection('1-2')?.finSent, { server: false, client: false });
    // A client of this process: its read() returning 0 is the server's FIN, sent first.
    const c = (action: TraceEvent['action'], more: Partial<TraceEvent> = {}) =>
      ev({ transport: 'tcp', role: 'client', action, endpoint: 9, ...more });
    state.apply(c('socket'));
    state.apply(c('connect', { local: client(5012), remote: SERVER }));
    state.apply(server('accept', 3, { local: SERVER, remote: client(5012) }));
    state.apply(server('write', 3, { bytes: 13 }));
    state.apply(c('read', { bytes: 13 }));
    state.apply(c('eof'));
    state.apply(c('close', { reason: 'done' }));
    const linked = state.connection('1-3');
    assert.equal(linked?.clientSource, 'client');
    assert.equal(linked?.closedFirst, 'server');
    assert.deepEqual(linked?.finSent, { server: true, client: true });
  });

  test('Mermaid text is escaped: no line breaks, no ; or # of its own', () => {
    assert.equal(mermaidText('a;b#c\nd\u0000'), 'a#59;b#35;c\\nd\\0');
  });

  test('bounded to the newest connections; the changes come newest first, at most 24 at a time, none lost', () => {
    const state = new ViewState({ maxConnections: 300, maxEvents: 4 });
    listen(state);
    for (let i = 1; i <= 305; i++) {
      state.apply(server('accept', i, { local: SERVER, remote: client(10_000 + i) }));
      state.apply(server('close', i));
    }
    const all = state.connections();
    assert.equal(all.length, 300);
    assert.equal(all[0]?.id, '1-305');
    assert.equal(all.at(-1)?.id, '1-6');
    assert.equal(state.connection('1-1'), undefined);
    const changed = state.takeChanged(24);
    assert.equal(changed.connections.length, 24);
    assert.equal(changed.connections[0]?.id, '1-305');
    assert.equal(changed.leftOut, 276);
    // Those left out come in the next takes, latest change first, until none is left.
    const next = state.takeChanged(24);
    assert.equal(next.connections[0]?.id, '1-281');
    assert.equal(next.leftOut, 252);
    let takes = 2;
    while (state.takeChanged(24).connections.length > 0) takes++;
    assert.equal(takes, Math.ceil(300 / 24));
    assert.equal(state.dirty, false);
    assert.equal(state.takeChanged(24).leftOut, 0);
    for (let i = 0; i < 10; i++) state.apply(server('read', 305, { bytes: 1 }));
    const c = state.connection('1-305');
    assert.equal(c?.events.length, 4);
    assert.equal(c?.eventsLeftOut, 8);
    assert.equal(c?.bytesIn, 10);
    assert.equal(state.counters.connections, 305);
  });

  test('refusals and events of connections never seen are counted, not drawn', () => {
    const state = new ViewState();
    state.apply(server('close', undefined, { reason: 'refused: too many connections' }));
    state.apply(server('read', 42, { bytes: 3 }));
    assert.equal(state.counters.refused, 1);
    assert.equal(state.connections().length, 0);
  });

  test('UDP: one record per client address, its datagrams, replies dropped by the rate limit, the client linked', () => {
    const state = new ViewState();
    const u = (action: TraceEvent['action'], more: Partial<TraceEvent> = {}) =>
      ev({ transport: 'udp', role: 'server', action, endpoint: 3, ...more });
    state.apply(u('socket', { combinedIn: 'socket.bind()' }));
    state.apply(
      u('bind', { local: { address: '0.0.0.0', port: 9100, family: 'IPv4' }, combinedIn: 'socket.bind()' }),
    );
    const uc = (action: TraceEvent['action'], more: Partial<TraceEvent> = {}) =>
      ev({ transport: 'udp', role: 'client', action, endpoint: 9, ...more });
    state.apply(uc('socket'));
    state.apply(
      uc('sendto', {
        local: client(6000),
        remote: { address: '127.0.0.1', port: 9100, family: 'IPv4' },
        bytes: 0,
      }),
    );
    state.apply(u('recvfrom', { remote: client(6000), bytes: 0 }));
    state.apply(u('sendto', { remote: client(6000), bytes: 13 }));
    state.apply(uc('recvfrom', { bytes: 13 }));
    state.apply(uc('close'));
    state.apply(u('recvfrom', { remote: client(6001), bytes: 1 }));
    state.apply(u('drop', { remote: client(6001), bytes: 13, reason: 'rate limit' }));
    const [other, mine] = state.connections();
    assert.deepEqual(state.listeners()[0]?.steps, ['socket', 'bind']);
    assert.equal(mine?.clientSource, 'client');
    assert.deepEqual(mine?.steps, ['recvfrom', 'sendto']);
    assert.deepEqual(mine?.clientSteps, ['socket', 'sendto', 'recvfrom', 'close']);
    assert.equal(mine?.bytesOut, 13);
    assert.equal(other?.clientSource, 'server');
    assert.deepEqual(other?.clientSteps, ['socket', 'sendto']);
    assert.deepEqual(other?.steps, ['recvfrom', 'drop']);
    assert.equal(other?.dropped, 1);
    assert.equal(state.counters.dropped, 1);
    assert.deepEqual(state.kernelTargets(), [], 'UDP has no TCP state to read');
    assert.match(toMermaid(other ?? mine ?? assert.fail()), /Note over S: reply not sent \(rate limit\)/);
  });

  test('UDP discard: a client that sends and closes before the server reads is still joined to its peer, for 2 s only', () => {
    const state = new ViewState();
    const u = (action: TraceEvent['action'], more: Partial<TraceEvent> = {}) =>
      ev({ transport: 'udp', role: 'server', action, endpoint: 3, ...more });
    const at = { address: '127.0.0.1', port: 9200, family: 'IPv4' } as const;
    state.apply(u('bind', { local: at }));
    const uc = (endpoint: number, action: TraceEvent['action'], more: Partial<TraceEvent> = {}) =>
      ev({ transport: 'udp', role: 'client', action, endpoint, ...more });
    // Sent and closed, then the server reads it: one record, both columns.
    state.apply(uc(11, 'socket'));
    state.apply(uc(11, 'sendto', { local: client(6100), remote: at, bytes: 16 }));
    state.apply(uc(11, 'close'));
    state.apply(u('recvfrom', { remote: client(6100), bytes: 16 }));
    const joined = state.connections().find((c) => c.remote.port === 6100);
    assert.equal(joined?.clientSource, 'client');
    assert.deepEqual(joined?.clientSteps, ['socket', 'sendto', 'close']);
    // A closed client the server has not heard from within 2 s is not joined to a later peer
    // that happens to use the same address and port.
    state.apply(uc(12, 'socket'));
    state.apply(uc(12, 'sendto', { local: client(6101), remote: at, bytes: 1 }));
    state.apply(uc(12, 'close'));
    clock += 2_500;
    state.apply(u('recvfrom', { remote: client(6101), bytes: 1 }));
    assert.equal(state.connections().find((c) => c.remote.port === 6101)?.clientSource, 'server');
  });

  test("the trace's text preview: at most 200 characters, never half a character, and --trace's lines unchanged", () => {
    assert.equal(tracePreview(Buffer.from('a'.repeat(300))).length, 200);
    assert.equal(tracePreview(Buffer.from('안녕'.repeat(150))), '안녕'.repeat(100));
    assert.equal(tracePreview(Buffer.from("Hi. I'm Bob.\n")), "Hi. I'm Bob.\n");
    const event = server('read', 1, { bytes: 14, text: "Hi. I'm Bob.\n" });
    assert.equal(formatTraceEvent(event), '[server] 4b read(): #1 14 bytes received');
  });
});

describe('the view state: the first bytes each way', () => {
  test("a connection keeps its first bytes each way, as hex, bounded; a client's are not kept twice", () => {
    const state = new ViewState({ maxShownBytes: 8 });
    listen(state);
    state.apply(server('accept', 1, { local: SERVER, remote: client(5000) }));
    const bytes = (direction: 'read' | 'write', data: string, role: 'server' | 'client' = 'server') =>
      state.applyBytes({
        transport: 'tcp',
        role,
        endpoint: 1,
        connection: 1,
        direction,
        remote: client(5000),
        data: Buffer.from(data, 'latin1'),
      });
    bytes('read', 'hi\n');
    bytes('write', 'hi\n');
    bytes('write', 'x', 'client');
    assert.deepEqual(state.connections()[0]?.shownBytes, { in: '68690a', out: '68690a' });
    assert.deepEqual(state.takeChanged(10).connections[0]?.shownBytes, { in: '68690a', out: '68690a' });
    // Past the bound, only what fits is kept: 8 bytes each way at most.
    bytes('read', 'abcdefgh\u00ff');
    assert.equal(state.connections()[0]?.shownBytes?.in, '68690a6162636465');
    bytes('read', 'more');
    assert.equal(state.connections()[0]?.shownBytes?.in.length, 16);
    // A connection the view never saw accepted is ignored.
    state.applyBytes({
      transport: 'tcp',
      role: 'server',
      endpoint: 1,
      connection: 9,
      direction: 'read',
      data: Buffer.from('z'),
    });
    assert.equal(state.connections().length, 1);
  });

  test("UDP: a peer's datagrams one after another", () => {
    const state = new ViewState();
    const udp = (action: TraceEvent['action'], more: Partial<TraceEvent> = {}) =>
      ev({ transport: 'udp', role: 'server', action, endpoint: 2, ...more });
    state.apply(udp('socket'));
    state.apply(udp('bind', { local: SERVER }));
    state.apply(udp('recvfrom', { remote: client(6000), bytes: 2 }));
    for (const data of ['ab', 'cd']) {
      state.applyBytes({
        transport: 'udp',
        role: 'server',
        endpoint: 2,
        direction: 'read',
        remote: client(6000),
        data: Buffer.from(data),
      });
    }
    assert.deepEqual(state.connections()[0]?.shownBytes, { in: '61626364', out: '' });
  });
});
