/**
 * Trace events as one line of text each, in English or in the lecture's Korean words. Pure.
 */
import type { TraceAddress, TraceEvent } from './events.js';

/** Languages the trace speaks. */
export const TRACE_LANGUAGES = ['en', 'ko'] as const;
/** A language the trace speaks. */
export type TraceLanguage = (typeof TRACE_LANGUAGES)[number];

function addr(a: TraceAddress | undefined): string {
  if (a === undefined) return '?';
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

function conn(e: TraceEvent): string {
  return e.connection === undefined ? '' : `#${e.connection} `;
}

type Texts = Record<string, (e: TraceEvent) => string>;

const EN: Texts = {
  'tcp:server:socket': (e) => `socket(): TCP socket created${combined(e, 'en')}`,
  'tcp:server:bind': (e) => `bind(): address ${addr(e.local)} assigned`,
  'tcp:server:listen': (e) => `listen(): waiting for connection requests, backlog ${e.backlog}`,
  'tcp:server:accept': (e) => `accept(): ${conn(e)}connection from ${addr(e.remote)}`,
  'tcp:server:read': (e) => `read(): ${conn(e)}${bytes(e.bytes, 'en')} received`,
  'tcp:server:write': (e) => `write(): ${conn(e)}${bytes(e.bytes, 'en')} sent`,
  'tcp:server:eof': (e) => `read(): ${conn(e)}end of stream, the client closed its side`,
  'tcp:server:shutdown': (e) => `shutdown(): ${conn(e)}our side closed for writing (FIN sent)`,
  'tcp:server:error': (e) => `${conn(e)}error: ${e.reason}`,
  'tcp:server:close': (e) => `close(): ${conn(e)}connection closed${reasonText(e, 'en')}`,
  'tcp:server:stop': () => 'close(): listening socket closed',
  'tcp:client:socket': (e) => `socket(): TCP socket created${combined(e, 'en')}`,
  'tcp:client:connect': (e) => `connect(): connected to ${addr(e.remote)} from ${addr(e.local)}`,
  'tcp:client:read': (e) => `read(): ${bytes(e.bytes, 'en')} received`,
  'tcp:client:write': (e) => `write(): ${bytes(e.bytes, 'en')} sent`,
  'tcp:client:eof': () => 'read(): end of stream, the server closed the connection',
  'tcp:client:shutdown': () => 'shutdown(): our side closed for writing (FIN sent)',
  'tcp:client:error': (e) => `error: ${e.reason}`,
  'tcp:client:close': (e) => `close(): socket closed${reasonText(e, 'en')}`,
  'udp:server:socket': (e) => `socket(): UDP socket created${combined(e, 'en')}`,
  'udp:server:bind': (e) => `bind(): address ${addr(e.local)} assigned`,
  'udp:server:recvfrom': (e) => `recvfrom(): ${bytes(e.bytes, 'en')} from ${addr(e.remote)}`,
  'udp:server:sendto': (e) => `sendto(): ${bytes(e.bytes, 'en')} to ${addr(e.remote)}`,
  'udp:server:drop': (e) => `sendto(): reply to ${addr(e.remote)} not sent (${e.reason ?? 'rate limit'})`,
  'udp:server:error': (e) => `error: ${e.reason}`,
  'udp:server:close': () => 'close(): socket closed',
  'udp:server:stop': () => 'close(): socket closed',
  'udp:client:socket': (e) => `socket(): UDP socket created${combined(e, 'en')}`,
  'udp:client:sendto': (e) => `sendto(): ${bytes(e.bytes, 'en')} to ${addr(e.remote)}`,
  'udp:client:recvfrom': (e) => `recvfrom(): ${bytes(e.bytes, 'en')} from ${addr(e.remote)}`,
  'udp:client:error': (e) => `error: ${e.reason}`,
  'udp:client:close': () => 'close(): socket closed',
};

// The lecture's own words (슬라이드 "클라이언트"/"서버" 단계) where it has them.
const KO: Texts = {
  'tcp:server:socket': (e) => `TCP 소켓의 생성 socket()${combined(e, 'ko')}`,
  'tcp:server:bind': (e) => `IP와 PORT번호의 할당 bind(): ${addr(e.local)}`,
  'tcp:server:listen': (e) => `연결요청 가능상태로 변경 listen(): 대기 큐 크기 ${e.backlog}`,
  'tcp:server:accept': (e) => `연결요청에 대한 수락 accept(): ${conn(e)}${addr(e.remote)}`,
  'tcp:server:read': (e) => `데이터 송수신 read(): ${conn(e)}${bytes(e.bytes, 'ko')} 수신`,
  'tcp:server:write': (e) => `데이터 송수신 write(): ${conn(e)}${bytes(e.bytes, 'ko')} 송신`,
  'tcp:server:eof': (e) => `데이터 송수신 read(): ${conn(e)}스트림의 끝, 클라이언트가 연결을 닫음`,
  'tcp:server:shutdown': (e) => `데이터 송수신 shutdown(): ${conn(e)}송신 방향 종료 (FIN 전송)`,
  'tcp:server:error': (e) => `${conn(e)}오류: ${e.reason}`,
  'tcp:server:close': (e) => `연결종료 close(): ${conn(e)}${reasonText(e, 'ko')}`.trimEnd(),
  'tcp:server:stop': () => '연결 종료 close(): 서버 소켓 닫힘',
  'tcp:client:socket': (e) => `TCP 소켓의 생성 socket()${combined(e, 'ko')}`,
  'tcp:client:connect': (e) => `연결의 요청 connect(): ${addr(e.remote)}에 연결됨 (내 주소 ${addr(e.local)})`,
  'tcp:client:read': (e) => `데이터 송수신 read(): ${bytes(e.bytes, 'ko')} 수신`,
  'tcp:client:write': (e) => `데이터 송수신 write(): ${bytes(e.bytes, 'ko')} 송신`,
  'tcp:client:eof': () => '데이터 송수신 read(): 스트림의 끝, 서버가 연결을 닫음',
  'tcp:client:shutdown': () => '데이터 송수신 shutdown(): 송신 방향 종료 (FIN 전송)',
  'tcp:client:error': (e) => `오류: ${e.reason}`,
  'tcp:client:close': (e) => `연결 종료 close()${reasonText(e, 'ko')}`,
  'udp:server:socket': (e) => `UDP 소켓의 생성 socket()${combined(e, 'ko')}`,
  'udp:server:bind': (e) => `IP와 PORT번호의 할당 bind(): ${addr(e.local)}`,
  'udp:server:recvfrom': (e) => `데이터 수신 recvfrom(): ${addr(e.remote)}에서 ${bytes(e.bytes, 'ko')}`,
  'udp:server:sendto': (e) => `데이터 송신 sendto(): ${addr(e.remote)}로 ${bytes(e.bytes, 'ko')}`,
  'udp:server:drop': (e) => `데이터 송신 sendto(): ${addr(e.remote)}로 응답하지 않음 (전송률 제한)`,
  'udp:server:error': (e) => `오류: ${e.reason}`,
  'udp:server:close': () => '소켓 종료 close()',
  'udp:server:stop': () => '소켓 종료 close()',
  'udp:client:socket': (e) => `UDP 소켓의 생성 socket()${combined(e, 'ko')}`,
  'udp:client:sendto': (e) => `데이터 송신 sendto(): ${addr(e.remote)}로 ${bytes(e.bytes, 'ko')}`,
  'udp:client:recvfrom': (e) => `데이터 수신 recvfrom(): ${addr(e.remote)}에서 ${bytes(e.bytes, 'ko')}`,
  'udp:client:error': (e) => `오류: ${e.reason}`,
  'udp:client:close': () => '소켓 종료 close()',
};

function bytes(n: number | undefined, lang: TraceLanguage): string {
  const count = n ?? 0;
  if (lang === 'ko') return `${count}바이트`;
  return count === 1 ? '1 byte' : `${count} bytes`;
}

function combined(e: TraceEvent, lang: TraceLanguage): string {
  if (e.combinedIn === undefined) return '';
  return lang === 'ko'
    ? ` [Node에서는 ${e.combinedIn} 한 번의 호출 안에서 일어남]`
    : ` [in Node this happens inside one call, ${e.combinedIn}]`;
}

function reasonText(e: TraceEvent, lang: TraceLanguage): string {
  if (e.reason === undefined || e.reason === 'done') return '';
  return lang === 'ko' ? ` (${e.reason})` : ` (${e.reason})`;
}

const ROLE: Record<TraceLanguage, Record<string, string>> = {
  en: { server: 'server', client: 'client' },
  ko: { server: '서버', client: '클라이언트' },
};

/**
 * One line for an event: `[server] 4a accept(): #1 connection from 127.0.0.1:53422`, or in Korean
 * `[서버] 4a 연결요청에 대한 수락 accept(): #1 127.0.0.1:53422`. No trailing newline.
 */
export function formatTraceEvent(event: TraceEvent, lang: TraceLanguage = 'en'): string {
  const key = `${event.transport}:${event.role}:${event.action}`;
  const text = (lang === 'ko' ? KO : EN)[key];
  const body = text === undefined ? `${event.action}` : text(event);
  const step = event.step === '' ? '' : `${event.step} `;
  return `[${ROLE[lang][event.role]}] ${step}${body}`;
}
