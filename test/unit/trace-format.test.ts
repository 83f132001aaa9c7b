import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeTraceEvent, type TraceEventInit } from '../../src/trace/events.js';
import {
  formatTraceEvent,
  lectureStep,
  TRACE_SCHEMA,
  type TraceAction,
  type TraceActionEntry,
  type TraceActionOf,
  type TraceEvent,
  traceEntry,
} from '../../src/trace/schema.js';

const local = { address: '0.0.0.0', port: 9190, family: 'IPv4' as const };
const remote = { address: '::1', port: 40000, family: 'IPv6' as const };

function line(init: TraceEventInit, lang: 'en' | 'ko' = 'en'): string {
  return formatTraceEvent(makeTraceEvent(init), lang);
}

describe('lecture steps', () => {
  test('the TCP server follows the lecture: 1 socket, 2 bind, 3 listen, 4a/4b/4c, 5', () => {
    const steps = ['socket', 'bind', 'listen', 'accept', 'write', 'close', 'stop'] as const;
    assert.deepEqual(
      steps.map((a) => lectureStep('tcp', 'server', a)),
      ['1', '2', '3', '4a', '4b', '4c', '5'],
    );
  });
  test('the TCP client: 1 socket, 2 connect, 3 read/write, 4 close', () => {
    const steps = ['socket', 'connect', 'read', 'write', 'close'] as const;
    assert.deepEqual(
      steps.map((a) => lectureStep('tcp', 'client', a)),
      ['1', '2', '3', '3', '4'],
    );
  });
});

describe('formatTraceEvent', () => {
  const server = { transport: 'tcp', role: 'server', endpoint: 1 } as const;
  test('English lines name the step, the call and the facts', () => {
    assert.equal(
      line({ ...server, action: 'bind', local }),
      '[server] 2 bind(): address 0.0.0.0:9190 assigned',
    );
    assert.equal(
      line({ ...server, action: 'listen', local, backlog: 5 }),
      '[server] 3 listen(): waiting for connection requests, backlog 5',
    );
    assert.equal(
      line({ ...server, action: 'accept', connection: 7, remote }),
      '[server] 4a accept(): #7 connection from [::1]:40000',
    );
    assert.equal(
      line({ ...server, action: 'write', connection: 7, bytes: 13 }),
      '[server] 4b write(): #7 13 bytes sent',
    );
    assert.equal(
      line({ ...server, action: 'write', connection: 7, bytes: 1 }),
      '[server] 4b write(): #7 1 byte sent',
    );
    assert.equal(
      line({ ...server, action: 'close', connection: 7, reason: 'done' }),
      '[server] 4c close(): #7 connection closed',
    );
    assert.equal(line({ ...server, action: 'stop' }), '[server] 5 close(): listening socket closed');
  });
  test('Korean lines use the lecture words', () => {
    assert.equal(
      line({ ...server, action: 'bind', local }, 'ko'),
      '[서버] 2 IP와 PORT번호의 할당 bind(): 0.0.0.0:9190',
    );
    assert.match(
      line({ ...server, action: 'listen', local, backlog: 5 }, 'ko'),
      /^\[서버\] 3 연결요청 가능상태로 변경 listen\(\)/,
    );
    assert.match(
      line({ ...server, action: 'accept', connection: 1, remote }, 'ko'),
      /^\[서버\] 4a 연결요청에 대한 수락 accept\(\)/,
    );
    assert.match(
      line({ ...server, action: 'write', connection: 1, bytes: 13 }, 'ko'),
      /^\[서버\] 4b 데이터 송수신 write\(\): #1 13바이트/,
    );
    assert.match(
      line({ ...server, action: 'close', connection: 1 }, 'ko'),
      /^\[서버\] 4c 연결종료 close\(\)/,
    );
    assert.equal(line({ ...server, action: 'stop' }, 'ko'), '[서버] 5 연결 종료 close(): 서버 소켓 닫힘');
    const client = { transport: 'tcp', role: 'client', endpoint: 2 } as const;
    assert.match(
      line({ ...client, action: 'connect', local, remote }, 'ko'),
      /^\[클라이언트\] 2 연결의 요청 connect\(\)/,
    );
    assert.match(line({ ...client, action: 'close' }, 'ko'), /^\[클라이언트\] 4 연결 종료 close\(\)/);
  });
  test('a step Node combines with others says so honestly', () => {
    assert.match(
      line({ ...server, action: 'socket', combinedIn: 'server.listen()' }),
      /inside one call, server\.listen\(\)/,
    );
    assert.match(
      line({ ...server, action: 'socket', combinedIn: 'server.listen()' }, 'ko'),
      /server\.listen\(\) 한 번의 호출/,
    );
  });
  test('the TLS handshake: version, cipher, and what the client verified, in both languages', () => {
    const tls = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', resumed: false };
    assert.equal(
      line({ ...server, action: 'handshake', connection: 4, tls: { ...tls, servername: 'localhost' } }),
      '[server] 4a TLS handshake: #4 TLSv1.3, TLS_AES_256_GCM_SHA384, SNI localhost',
    );
    assert.equal(
      line({ ...server, action: 'handshake', connection: 4, tls: { ...tls, resumed: true } }, 'ko'),
      '[서버] 4a TLS 핸드셰이크: #4 TLSv1.3, TLS_AES_256_GCM_SHA384, 세션 재개',
    );
    const client = { transport: 'tcp', role: 'client', endpoint: 2 } as const;
    assert.equal(
      line({
        ...client,
        action: 'handshake',
        tls: { ...tls, verified: 'localhost', issuer: 'CN=localhost', customCa: false },
      }),
      '[client] 2 TLS handshake: TLSv1.3, TLS_AES_256_GCM_SHA384; certificate verified: localhost, issued by CN=localhost',
    );
    assert.equal(
      line(
        { ...client, action: 'handshake', tls: { ...tls, verified: '::1', issuer: 'CN=x', customCa: true } },
        'ko',
      ),
      '[클라이언트] 2 TLS 핸드셰이크: TLSv1.3, TLS_AES_256_GCM_SHA384; 인증서 확인됨: ::1, 발급자 CN=x (--ca)',
    );
    assert.equal(
      line({ ...client, action: 'handshake', tls: { ...tls, insecure: true, fingerprint: 'AB:CD' } }, 'ko'),
      '[클라이언트] 2 TLS 핸드셰이크: TLSv1.3, TLS_AES_256_GCM_SHA384; 인증서 확인 안 함: --insecure (SHA-256 AB:CD)',
    );
  });
  test('a close with a reason shows it', () => {
    assert.equal(
      line({ ...server, action: 'close', connection: 3, reason: 'ECONNRESET' }),
      '[server] 4c close(): #3 connection closed (ECONNRESET)',
    );
  });
});

describe('the trace schema', () => {
  const sample: Omit<TraceEvent, 'transport' | 'role' | 'action' | 'step'> = {
    endpoint: 1,
    connection: 2,
    time: 0,
    local,
    remote,
    backlog: 5,
    bytes: 13,
    reason: 'ECONNRESET',
  };
  const LECTURE_STEPS = new Set(['1', '2', '3', '4', '4a', '4b', '4c', '5']);

  test('every action of every transport and role has a lecture step and a line in both languages', () => {
    let count = 0;
    for (const transport of ['tcp', 'udp'] as const) {
      for (const role of ['server', 'client'] as const) {
        for (const action of Object.keys(TRACE_SCHEMA[transport][role])) {
          const entry = traceEntry(transport, role, action);
          assert.ok(entry !== undefined);
          assert.ok(LECTURE_STEPS.has(entry.step), `${transport}:${role}:${action} step ${entry.step}`);
          const event = { ...sample, transport, role, action: action as TraceAction, step: entry.step };
          const en = formatTraceEvent(event, 'en');
          const ko = formatTraceEvent(event, 'ko');
          assert.ok(en.length > `[${role}] ${entry.step} `.length, en);
          assert.notEqual(en, ko, `${transport}:${role}:${action} has its own Korean text`);
          count++;
        }
      }
    }
    assert.equal(count, 33);
  });

  test('an action a transport does not have has no entry', () => {
    assert.equal(traceEntry('udp', 'server', 'accept'), undefined);
    assert.equal(traceEntry('tcp', 'client', 'toString'), undefined);
    assert.equal(lectureStep('udp', 'client', 'listen'), '');
  });

  test('the compiler rejects an entry without its Korean text, and an action a table lacks', () => {
    // @ts-expect-error: an entry needs ko as well as en
    const missing: TraceActionEntry = { step: '1', en: () => 'socket()' };
    // @ts-expect-error: a UDP server never accepts
    const wrong: TraceActionOf<'udp', 'server'> = 'accept';
    assert.ok(missing !== undefined && wrong !== undefined);
  });

  test('a socket inherited as a descriptor says so, and an event from a worker names it', () => {
    const bind = { ...sample, transport: 'tcp', role: 'server', action: 'bind', step: '2', fd: 3 } as const;
    assert.equal(
      formatTraceEvent(bind, 'en'),
      '[server] 2 bind(): address 0.0.0.0:9190 assigned [done by another process: inherited as descriptor 3]',
    );
    const accept = {
      ...sample,
      transport: 'tcp',
      role: 'server',
      action: 'accept',
      step: '4a',
      worker: 4102,
    } as const;
    assert.equal(formatTraceEvent(accept, 'en'), '[server 4102] 4a accept(): #2 connection from [::1]:40000');
  });
});
