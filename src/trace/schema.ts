/**
 * The trace schema: every action each transport and role can report, declared once with its
 * lecture step and its English and Korean text. Pure: it imports nothing from Node, so a browser
 * page can draw and word events with the same code.
 *
 * Adding an action means adding one entry to {@link TRACE_SCHEMA}; the compiler rejects an entry
 * without its step or either text, and a publisher that reports an action its table lacks.
 */

import { TRACE_TEXT_MAX } from '../defaults.js';

// The Korean words for the reasons a UDP reply is not sent.
const DROP_REASONS_KO: Record<string, string> = {
  'rate limit': '전송률 제한',
  'own address': '이 프로세스 자신의 주소',
  loop: '응답을 되돌려 보내는 상대: 루프',
  'low port': '1024 미만의 포트: 다른 서비스와 서로 응답하는 루프를 막음',
};
/** The transport an event comes from. */
export type TraceTransport = 'tcp' | 'udp';
/** The side of the lecture's diagram an event belongs to. */
export type TraceRole = 'server' | 'client';
/** Languages the trace speaks. */
export const TRACE_LANGUAGES = ['en', 'ko'] as const;
/** A language the trace speaks. */
export type TraceLanguage = (typeof TRACE_LANGUAGES)[number];

/** An address and port as seen on a socket (or as a proxy header gave it). */
export interface TraceAddress {
  /** The IP address (`127.0.0.1`, `::1`). */
  address: string;
  /** The port. */
  port: number;
  /** The address family. */
  family: 'IPv4' | 'IPv6';
}

/** The first {@link TRACE_TEXT_MAX} characters of `bytes` as UTF-8 text, for {@link TraceEvent.text}. */
export function tracePreview(bytes: Uint8Array): string {
  const head = bytes.subarray(0, TRACE_TEXT_MAX * 4);
  const text = new TextDecoder().decode(head);
  const chars = Array.from(text);
  return chars.length > TRACE_TEXT_MAX ? chars.slice(0, TRACE_TEXT_MAX).join('') : text;
}

/** What a TLS handshake agreed on, and what the client verified (the `handshake` action). */
export interface TraceTls {
  /** The protocol version (`TLSv1.3`). */
  protocol: string;
  /** The cipher suite's standard name (`TLS_AES_256_GCM_SHA384`). */
  cipher: string;
  /** True when the session was resumed (a ticket from an earlier handshake), not made anew. */
  resumed: boolean;
  /** The server name the client asked for (SNI), when it asked for one. */
  servername?: string;
  /**
   * Client: the name or address the server's certificate was verified for (`localhost`); absent
   * when it was not verified.
   */
  verified?: string;
  /** Client: the verified certificate's issuer (`CN=localhost`). */
  issuer?: string;
  /** Client: true when the chain was checked against the CAs given (`--ca`), not the default ones. */
  customCa?: boolean;
  /** Client: true when verification was skipped on purpose (`--insecure`). */
  insecure?: boolean;
  /** Client: the SHA-256 fingerprint of the certificate the server presented (`AB:CD:...`). */
  fingerprint?: string;
}

/** One step on a live socket. */
export interface TraceEvent {
  /** TCP or UDP. */
  transport: TraceTransport;
  /** Server or client. */
  role: TraceRole;
  /** What happened, named after the system call where there is one (`accept`). */
  action: TraceAction;
  /** The lecture's step number for this action: `'1'`, `'2'`, `'3'`, `'4a'`, `'4b'`, `'4c'`, `'5'`. */
  step: string;
  /** Identifies the server or client object, unique in its process. */
  endpoint: number;
  /** Identifies the connection (TCP) or exchange within the endpoint, when there is one. */
  connection?: number;
  /** `performance.timeOrigin + performance.now()` at the moment of the event, in ms. */
  time: number;
  /**
   * The system's monotonic clock at the moment of the event, in ns, as a decimal string (JSON has
   * no 64-bit integers). On Linux this is CLOCK_MONOTONIC, one clock for every process on the
   * machine, so that events of a server and a client process can be put in the order they
   * happened. `time` is not: each process's `timeOrigin` is read from the wall clock on its own.
   */
  monotonicNs?: string;
  /** Our side's address. */
  local?: TraceAddress;
  /** The peer's address: the client's, also when it came through a proxy. */
  remote?: TraceAddress;
  /** The proxy's address, when a pipeline stage replaced `remote` with the client's own. */
  proxy?: TraceAddress;
  /** The listen backlog (listen). */
  backlog?: number;
  /** Bytes read or written (read, write, recvfrom, sendto). */
  bytes?: number;
  /**
   * The first bytes read or written, as text (at most `TRACE_TEXT_MAX` characters), where a service
   * gives them: greet's lines, echo's bytes, hello's message. Built only while someone subscribes.
   */
  text?: string;
  /**
   * Set when Node performs this step together with others inside one call, so that the step is
   * reported when that call completes rather than at its own system call: e.g. `server.listen()`
   * does socket(), bind() and listen() in one go.
   */
  combinedIn?: string;
  /**
   * The Unix domain socket's path (`@name` for an abstract one), on the events of a Unix stream
   * socket, which have no IP `local` or `remote` address: their `transport` is `tcp`, the
   * lecture's stream socket.
   */
  path?: string;
  /**
   * A Unix socket connection's own inode (accept), so that a reader can find the process at its
   * other end (`ss -xp` names each socket's peer by inode).
   */
  inode?: number;
  /** The descriptor the socket was inherited as (bind), when it was not bound here. */
  fd?: number;
  /** Why a connection or socket closed, or what went wrong: `'done'`, `'timeout'`, `ECONNRESET`, ... */
  reason?: string;
  /** The worker process the event comes from, when a supervisor passed it on (`--workers`). */
  worker?: number;
  /** What a TLS handshake agreed on (the `handshake` action). */
  tls?: TraceTls;
}

/** One action's entry: its lecture step and its line of text in each language. */
export interface TraceActionEntry {
  /** The lecture's step number: `'1'` to `'5'`, with `a`/`b`/`c` for the server's loop (`'4a'`). */
  step: string;
  /** The event's line in English. */
  en(event: TraceEvent): string;
  /** The event's line in Korean, in the lecture's words. */
  ko(event: TraceEvent): string;
}

// Types an entry written in place as a TraceActionEntry (rather than its literal type), so that
// the API reference documents the entry's fields once.
const entry = (e: TraceActionEntry): TraceActionEntry => e;

function addr(a: TraceAddress | undefined): string {
  if (a === undefined) return '?';
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

function conn(e: TraceEvent): string {
  return e.connection === undefined ? '' : `#${e.connection} `;
}

function bytes(n: number | undefined, lang: TraceLanguage): string {
  const count = n ?? 0;
  if (lang === 'ko') return `${count}바이트`;
  return count === 1 ? '1 byte' : `${count} bytes`;
}

// A socket inherited as a descriptor (socket activation) was created and bound by another process.
function inherited(e: TraceEvent, lang: TraceLanguage): string {
  if (e.fd === undefined) return '';
  return lang === 'ko'
    ? ` [다른 프로세스가 만들어 넘겨준 소켓: 파일 기술자 ${e.fd}]`
    : ` [done by another process: inherited as descriptor ${e.fd}]`;
}

function combined(e: TraceEvent, lang: TraceLanguage): string {
  if (e.combinedIn === undefined) return inherited(e, lang);
  return lang === 'ko'
    ? ` [Node에서는 ${e.combinedIn} 한 번의 호출 안에서 일어남]`
    : ` [in Node this happens inside one call, ${e.combinedIn}]`;
}

function reasonText(e: TraceEvent): string {
  return e.reason === undefined || e.reason === 'done' ? '' : ` (${e.reason})`;
}

function via(e: TraceEvent, lang: TraceLanguage): string {
  // A client a PROXY header named on a Unix socket: the proxy has no address, only the path.
  if (e.proxy === undefined && e.path !== undefined && e.remote !== undefined) {
    return lang === 'ko'
      ? ` (${e.path}의 프록시 경유, 유닉스 도메인 소켓)`
      : ` via a proxy on ${e.path} (Unix domain socket)`;
  }
  if (e.proxy === undefined) return '';
  return lang === 'ko' ? ` (프록시 ${addr(e.proxy)} 경유)` : ` via proxy ${addr(e.proxy)}`;
}

function tlsAgreed(e: TraceEvent, lang: TraceLanguage): string {
  const tls = e.tls;
  if (tls === undefined) return '';
  const resumed = tls.resumed ? (lang === 'ko' ? ', 세션 재개' : ', session resumed') : '';
  const sni =
    tls.servername === undefined ? '' : lang === 'ko' ? `, SNI ${tls.servername}` : `, SNI ${tls.servername}`;
  return `${tls.protocol}, ${tls.cipher}${resumed}${sni}`;
}

function tlsVerified(e: TraceEvent, lang: TraceLanguage): string {
  const tls = e.tls;
  if (tls === undefined) return '';
  if (tls.verified !== undefined) {
    const ca = tls.customCa ? ' (--ca)' : '';
    const issuer = tls.issuer ?? '?';
    return lang === 'ko'
      ? `; 인증서 확인됨: ${tls.verified}, 발급자 ${issuer}${ca}`
      : `; certificate verified: ${tls.verified}, issued by ${issuer}${ca}`;
  }
  const fingerprint = tls.fingerprint === undefined ? '' : ` (SHA-256 ${tls.fingerprint})`;
  if (tls.insecure) {
    return lang === 'ko'
      ? `; 인증서 확인 안 함: --insecure${fingerprint}`
      : `; not verified: --insecure${fingerprint}`;
  }
  return '';
}

// Entries that several transports or roles share, word for word.
const socketCreated = (kind: 'TCP' | 'UDP'): TraceActionEntry => ({
  step: '1',
  en: (e) =>
    e.path === undefined
      ? `socket(): ${kind} socket created${combined(e, 'en')}`
      : `socket(): Unix domain stream socket created${combined(e, 'en')}`,
  ko: (e) =>
    e.path === undefined
      ? `${kind} 소켓의 생성 socket()${combined(e, 'ko')}`
      : `유닉스 도메인 스트림 소켓의 생성 socket()${combined(e, 'ko')}`,
});
const addressAssigned: TraceActionEntry = {
  step: '2',
  en: (e) =>
    e.path === undefined
      ? `bind(): address ${addr(e.local)} assigned${inherited(e, 'en')}`
      : `bind(): path ${e.path} assigned (Unix domain socket)${inherited(e, 'en')}`,
  ko: (e) =>
    e.path === undefined
      ? `IP와 PORT번호의 할당 bind(): ${addr(e.local)}${inherited(e, 'ko')}`
      : `경로의 할당 bind(): ${e.path} (유닉스 도메인 소켓)${inherited(e, 'ko')}`,
};

// Who connected: an IP address, or a Unix socket's client, which has no address of its own.
function peerOf(e: TraceEvent, lang: TraceLanguage): string {
  if (e.path === undefined || e.remote !== undefined) return addr(e.remote);
  return lang === 'ko'
    ? `${e.path}의 클라이언트 (유닉스 도메인 소켓)`
    : `a client of ${e.path} (Unix domain socket)`;
}
const failed = (step: string): TraceActionEntry => ({
  step,
  en: (e) => `error: ${e.reason}`,
  ko: (e) => `오류: ${e.reason}`,
});
const datagramSent = (step: string): TraceActionEntry => ({
  step,
  en: (e) => `sendto(): ${bytes(e.bytes, 'en')} to ${addr(e.remote)}`,
  ko: (e) => `데이터 송신 sendto(): ${addr(e.remote)}로 ${bytes(e.bytes, 'ko')}`,
});
const datagramReceived: TraceActionEntry = {
  step: '3',
  en: (e) => `recvfrom(): ${bytes(e.bytes, 'en')} from ${addr(e.remote)}`,
  ko: (e) => `데이터 수신 recvfrom(): ${addr(e.remote)}에서 ${bytes(e.bytes, 'ko')}`,
};
const udpSocketClosed: TraceActionEntry = {
  step: '4',
  en: () => 'close(): socket closed',
  ko: () => '소켓 종료 close()',
};

/**
 * The schema: transport → role → action → entry. The lecture's own words (the slides' client and
 * server steps) are the Korean text where it has them.
 */
export const TRACE_SCHEMA = {
  /** TCP: hserver and hclient. */
  tcp: {
    /** The server's actions (hserver, the lecture's server steps 1 to 5). */
    server: {
      /** A socket was created (step 1). */
      socket: socketCreated('TCP'),
      /** An address was assigned (step 2). */
      bind: addressAssigned,
      /** The socket now takes connection requests (step 3). */
      listen: entry({
        step: '3',
        en: (e) => `listen(): waiting for connection requests, backlog ${e.backlog}`,
        ko: (e) => `연결요청 가능상태로 변경 listen(): 대기 큐 크기 ${e.backlog}`,
      }),
      /** A connection was accepted (step 4a). */
      accept: entry({
        step: '4a',
        en: (e) => `accept(): ${conn(e)}connection from ${peerOf(e, 'en')}${via(e, 'en')}`,
        ko: (e) => `연결요청에 대한 수락 accept(): ${conn(e)}${peerOf(e, 'ko')}${via(e, 'ko')}`,
      }),
      /**
       * The TLS handshake with the accepted client completed: between the accept and the data
       * (step 4a, before the service runs). The client is not asked for a certificate.
       */
      handshake: entry({
        step: '4a',
        en: (e) => `TLS handshake: ${conn(e)}${tlsAgreed(e, 'en')}`,
        ko: (e) => `TLS 핸드셰이크: ${conn(e)}${tlsAgreed(e, 'ko')}`,
      }),
      /** Bytes were read (step 4b). */
      read: entry({
        step: '4b',
        en: (e) => `read(): ${conn(e)}${bytes(e.bytes, 'en')} received`,
        ko: (e) => `데이터 송수신 read(): ${conn(e)}${bytes(e.bytes, 'ko')} 수신`,
      }),
      /** Bytes were written (step 4b). */
      write: entry({
        step: '4b',
        en: (e) => `write(): ${conn(e)}${bytes(e.bytes, 'en')} sent`,
        ko: (e) => `데이터 송수신 write(): ${conn(e)}${bytes(e.bytes, 'ko')} 송신`,
      }),
      /** The client closed its side: read() returned 0 (step 4b). */
      eof: entry({
        step: '4b',
        en: (e) => `read(): ${conn(e)}end of stream, the client closed its side`,
        ko: (e) => `데이터 송수신 read(): ${conn(e)}스트림의 끝, 클라이언트가 연결을 닫음`,
      }),
      /** Our write side was shut down: FIN sent, reading goes on (step 4b). */
      shutdown: entry({
        step: '4b',
        en: (e) => `shutdown(): ${conn(e)}our side closed for writing (FIN sent)`,
        ko: (e) => `데이터 송수신 shutdown(): ${conn(e)}송신 방향 종료 (FIN 전송)`,
      }),
      /** Something went wrong on a connection. */
      error: entry({
        step: '4b',
        en: (e) => `${conn(e)}error: ${e.reason}`,
        ko: (e) => `${conn(e)}오류: ${e.reason}`,
      }),
      /** A connection's socket was closed (step 4c). */
      close: entry({
        step: '4c',
        en: (e) => `close(): ${conn(e)}connection closed${reasonText(e)}`,
        ko: (e) => `연결종료 close(): ${conn(e)}${reasonText(e)}`.trimEnd(),
      }),
      /** The listening socket was closed (step 5). */
      stop: entry({
        step: '5',
        en: () => 'close(): listening socket closed',
        ko: () => '연결 종료 close(): 서버 소켓 닫힘',
      }),
    },
    /** The client's actions (hclient, the lecture's client steps 1 to 4). */
    client: {
      /** A socket was created (step 1). */
      socket: socketCreated('TCP'),
      /** A connection was established (step 2). */
      connect: entry({
        step: '2',
        en: (e) =>
          e.path === undefined
            ? `connect(): connected to ${addr(e.remote)} from ${addr(e.local)}`
            : `connect(): connected to ${e.path} (Unix domain socket)`,
        ko: (e) =>
          e.path === undefined
            ? `연결의 요청 connect(): ${addr(e.remote)}에 연결됨 (내 주소 ${addr(e.local)})`
            : `연결의 요청 connect(): ${e.path}에 연결됨 (유닉스 도메인 소켓)`,
      }),
      /**
       * The TLS handshake with the server completed, after connect() and before the data (step
       * 2): version, cipher, and what was verified of the server's certificate.
       */
      handshake: entry({
        step: '2',
        en: (e) => `TLS handshake: ${tlsAgreed(e, 'en')}${tlsVerified(e, 'en')}`,
        ko: (e) => `TLS 핸드셰이크: ${tlsAgreed(e, 'ko')}${tlsVerified(e, 'ko')}`,
      }),
      /** Bytes were read (step 3). */
      read: entry({
        step: '3',
        en: (e) => `read(): ${bytes(e.bytes, 'en')} received`,
        ko: (e) => `데이터 송수신 read(): ${bytes(e.bytes, 'ko')} 수신`,
      }),
      /** Bytes were written (step 3). */
      write: entry({
        step: '3',
        en: (e) => `write(): ${bytes(e.bytes, 'en')} sent`,
        ko: (e) => `데이터 송수신 write(): ${bytes(e.bytes, 'ko')} 송신`,
      }),
      /** The server closed: read() returned 0 (step 3). */
      eof: entry({
        step: '3',
        en: () => 'read(): end of stream, the server closed the connection',
        ko: () => '데이터 송수신 read(): 스트림의 끝, 서버가 연결을 닫음',
      }),
      /** Our write side was shut down (step 3). */
      shutdown: entry({
        step: '3',
        en: () => 'shutdown(): our side closed for writing (FIN sent)',
        ko: () => '데이터 송수신 shutdown(): 송신 방향 종료 (FIN 전송)',
      }),
      /** Something went wrong. */
      error: failed('3'),
      /** The socket was closed (step 4). */
      close: entry({
        step: '4',
        en: (e) => `close(): socket closed${reasonText(e)}`,
        ko: (e) => `연결 종료 close()${reasonText(e)}`,
      }),
    },
  },
  /** UDP: userver and uclient. */
  udp: {
    /** The server's actions (userver). */
    server: {
      /** A socket was created (step 1). */
      socket: socketCreated('UDP'),
      /** An address was assigned (step 2). */
      bind: addressAssigned,
      /** A datagram arrived (step 3). */
      recvfrom: datagramReceived,
      /** A datagram was sent (step 3). */
      sendto: datagramSent('3'),
      /**
       * A reply was not sent (step 3): its destination is over the reflection rate limit, is one
       * of this process's own servers (`own address`), kept playing our replies back (`loop`), or
       * is a well-known port below 1024 (`low port`).
       */
      drop: entry({
        step: '3',
        en: (e) => `sendto(): reply to ${addr(e.remote)} not sent (${e.reason ?? 'rate limit'})`,
        ko: (e) =>
          `데이터 송신 sendto(): ${addr(e.remote)}로 응답하지 않음 (${DROP_REASONS_KO[e.reason ?? 'rate limit'] ?? e.reason})`,
      }),
      /** Something went wrong with one datagram. */
      error: failed('3'),
      /** The socket was closed (step 4). */
      close: udpSocketClosed,
    },
    /** The client's actions (uclient). */
    client: {
      /** A socket was created (step 1). */
      socket: socketCreated('UDP'),
      /** A datagram was sent (step 2). */
      sendto: datagramSent('2'),
      /** A datagram arrived (step 3). */
      recvfrom: datagramReceived,
      /** Something went wrong. */
      error: failed('3'),
      /** The socket was closed (step 4). */
      close: udpSocketClosed,
    },
  },
} as const satisfies {
  readonly [T in TraceTransport]: { readonly [R in TraceRole]: Record<string, TraceActionEntry> };
};

/** The actions one transport and role can report (`TraceActionOf<'tcp', 'server'>` has `'accept'`). */
export type TraceActionOf<T extends TraceTransport, R extends TraceRole> = keyof (typeof TRACE_SCHEMA)[T][R] &
  string;

/** Every action of every transport and role, named after the system call where there is one. */
export type TraceAction = {
  [T in TraceTransport]: { [R in TraceRole]: TraceActionOf<T, R> }[TraceRole];
}[TraceTransport];

/** The schema entry of an action, or undefined when the transport and role have no such action. */
export function traceEntry(
  transport: TraceTransport,
  role: TraceRole,
  action: string,
): TraceActionEntry | undefined {
  const actions: Readonly<Record<string, TraceActionEntry>> = TRACE_SCHEMA[transport][role];
  return Object.hasOwn(actions, action) ? actions[action] : undefined;
}

/** The lecture's step number for an action on a transport and role (`'4a'` for a TCP server's accept). */
export function lectureStep(transport: TraceTransport, role: TraceRole, action: TraceAction): string {
  return traceEntry(transport, role, action)?.step ?? '';
}

const ROLE: Record<TraceLanguage, Record<TraceRole, string>> = {
  en: { server: 'server', client: 'client' },
  ko: { server: '서버', client: '클라이언트' },
};

/**
 * One line for an event: `[server] 4a accept(): #1 connection from 127.0.0.1:53422`, or in Korean
 * `[서버] 4a 연결요청에 대한 수락 accept(): #1 127.0.0.1:53422`. No trailing newline. An event from
 * a worker says which: `[server 4102] ...`.
 */
export function formatTraceEvent(event: TraceEvent, lang: TraceLanguage = 'en'): string {
  const entry = traceEntry(event.transport, event.role, event.action);
  const body = entry === undefined ? `${event.action}` : entry[lang](event);
  const step = event.step === '' ? '' : `${event.step} `;
  const who =
    event.worker === undefined ? ROLE[lang][event.role] : `${ROLE[lang][event.role]} ${event.worker}`;
  return `[${who}] ${step}${body}`;
}
