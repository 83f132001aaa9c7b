/**
 * Every word the live page shows, in English and in the lecture's Korean: the server renders the
 * page's first state with them (src/view/page.ts) and the page's script redraws with them. Pure,
 * and free of DOM and Node types, so that both sides and the unit tests share one list.
 */
import type { TraceLanguage } from '../../trace/schema.js';

/** One of the page's words in both languages. */
export interface PageWord {
  /** In English. */
  readonly en: string;
  /** In Korean, in the lecture's words where it has them. */
  readonly ko: string;
}

const WORDS = {
  title: { en: 'The lecture, live', ko: '소켓 통신 과정, 실시간' },
  tcpFlow: { en: 'TCP client/server flow', ko: 'TCP 클라이언트/서버 프로그램의 흐름' },
  udpFlow: { en: 'UDP client/server flow', ko: 'UDP 클라이언트/서버 프로그램의 흐름 - 참고' },
  server: { en: 'Server', ko: '서버' },
  client: { en: 'Client', ko: '클라이언트' },
  serverWord: { en: 'the server', ko: '서버가' },
  clientWord: { en: 'the client', ko: '클라이언트가' },
  s1: { en: 'create a TCP socket', ko: 'TCP 소켓의 생성' },
  s2: { en: 'assign IP and port', ko: 'IP와 PORT번호의 할당' },
  s3: { en: 'ready for connection requests', ko: '연결요청 가능상태로 변경' },
  s4: { en: 'repeat the following', ko: '다음을 반복적으로 수행' },
  s4a: { en: 'accept a connection request', ko: '연결요청에 대한 수락' },
  s4b: { en: 'send and receive data', ko: '데이터 송수신' },
  s4c: { en: 'close the connection', ko: '연결종료' },
  s5: { en: 'close', ko: '연결 종료' },
  c1: { en: 'create a TCP socket', ko: 'TCP 소켓의 생성' },
  c2: { en: 'request a connection', ko: '연결의 요청' },
  c3: { en: 'send and receive data', ko: '데이터 송수신' },
  c4: { en: 'close the connection', ko: '연결 종료' },
  u1: { en: 'create a UDP socket', ko: 'UDP 소켓의 생성' },
  u2: { en: 'assign IP and port', ko: 'IP와 PORT번호의 할당' },
  urecv: { en: 'receive a datagram', ko: '데이터 수신' },
  usend: { en: 'send a datagram', ko: '데이터 송신' },
  uclose: { en: 'close the socket', ko: '소켓 종료' },
  arrowConnect: { en: 'connection request', ko: '연결요청' },
  arrowData: { en: 'data', ko: '데이터' },
  arrowFin: { en: 'FIN', ko: 'FIN' },
  arrowDatagram: { en: 'datagram', ko: '데이터그램' },
  arrowReply: { en: 'reply', ko: '응답' },
  loop: { en: 'step 4: again for the next client', ko: '4: 다음 클라이언트에 대해 반복' },
  connections: { en: 'Connections', ko: '연결 목록' },
  peers: {
    en: 'Peers (one row per client address and port)',
    ko: '상대 목록 (클라이언트 주소와 포트마다 한 행)',
  },
  sequence: { en: 'Selected connection', ko: '선택한 연결' },
  sequencePeer: { en: 'Selected peer', ko: '선택한 상대' },
  none: { en: 'No connection yet: run a client.', ko: '아직 연결이 없습니다: 클라이언트를 실행하세요.' },
  nonePeer: {
    en: 'No datagram yet: run a client.',
    ko: '아직 받은 데이터그램이 없습니다: 클라이언트를 실행하세요.',
  },
  run: { en: 'Run a client', ko: '클라이언트 실행' },
  running: { en: 'running…', ko: '실행 중…' },
  export: { en: 'Mermaid export', ko: 'Mermaid 내보내기' },
  copy: { en: 'Copy', ko: '복사' },
  copied: { en: 'copied', ko: '복사됨' },
  kernel: { en: 'kernel', ko: '커널' },
  steps: { en: 'steps', ko: '단계' },
  calls: { en: 'calls', ko: '호출' },
  bytes: { en: 'bytes in/out', ko: '바이트 수신/송신' },
  remote: { en: 'client', ko: '클라이언트' },
  peer: { en: 'peer', ko: '상대' },
  id: { en: 'id', ko: '번호' },
  kernelServer: { en: 'kernel: server', ko: '커널: 서버' },
  kernelClient: { en: 'kernel: client', ko: '커널: 클라이언트' },
  unixSocket: { en: 'Unix socket', ko: '유닉스 소켓' },
  unixPeer: { en: 'peer process', ko: '상대 프로세스' },
  uid: { en: 'uid', ko: '사용자' },
  datagramsIn: { en: 'datagrams in', ko: '받은 데이터그램' },
  dropped: { en: 'not sent', ko: '보내지 않음' },
  repliesOut: { en: 'replies sent/dropped', ko: '보낸/보내지 않은 응답' },
  follow: { en: 'follow the newest', ko: '최신 연결 따라가기' },
  seenByServer: {
    en: 'client column as the server and the kernel saw it (the client runs elsewhere)',
    ko: '클라이언트 열: 서버와 커널이 본 대로 (클라이언트는 다른 곳에서 실행됨)',
  },
  seenByClient: {
    en: 'client column from the client itself (run in this process)',
    ko: '클라이언트 열: 이 프로세스에서 실행한 클라이언트 자신의 기록',
  },
  acceptQueue: { en: 'accept queue', ko: '연결 대기 큐' },
  tlsHandshake: { en: 'TLS handshake', ko: 'TLS 핸드셰이크' },
  tlsResumed: { en: ' (session resumed)', ko: ' (세션 재개)' },
  backlog: { en: 'backlog', ko: '대기 큐 크기' },
  combined: { en: 'in Node: one call, server.listen()', ko: 'Node에서는 한 번의 호출 server.listen()' },
  combinedUdp: { en: 'in Node: one call, socket.bind()', ko: 'Node에서는 한 번의 호출 socket.bind()' },
  fd: { en: 'inherited descriptor', ko: '물려받은 디스크립터' },
  closedFirst: { en: 'closed first', ko: '먼저 닫음' },
  unknownNote: {
    en: '"unknown": this machine\'s kernel cannot say (a peer on another host, or neither ss nor /proc). "gone": the kernel has no row for that end any more. "not read yet": no reading of the kernel has covered this connection yet.',
    ko: '"알 수 없음": 이 컴퓨터의 커널이 알려 줄 수 없음 (다른 호스트의 상대이거나 ss도 /proc도 없음). "사라짐": 커널에 그 끝의 항목이 더 이상 없음. "아직 읽지 않음": 이 연결을 다룬 커널 읽기가 아직 없음.',
  },
  udpNote: {
    en: 'UDP has no connection and no accept(): each datagram stands alone, and the list has one row per client address and port.',
    ko: 'UDP에는 연결도 accept()도 없습니다: 데이터그램은 하나하나 따로이고, 목록은 클라이언트 주소와 포트마다 한 행입니다.',
  },
  perSecond: { en: 'per second', ko: '초당' },
  sampled: { en: 'updates sample the busiest moments', ko: '부하가 클 때는 일부 연결만 표시' },
  moreRows: { en: 'older rows not shown', ko: '오래된 행은 표시하지 않음' },
  langToggle: { en: '한국어', ko: 'English' },
  hexTitle: {
    en: 'Bytes each way (the first 4096 of each)',
    ko: '방향마다의 바이트 (방향마다 처음 4096바이트)',
  },
  hexIn: { en: 'client → server', ko: '클라이언트 → 서버' },
  hexOut: { en: 'server → client', ko: '서버 → 클라이언트' },
  hexNone: { en: 'no bytes yet', ko: '아직 바이트 없음' },
  hexCut: { en: 'more went than is kept here', ko: '여기 보관한 것보다 더 많이 오감' },
} as const satisfies Record<string, PageWord>;

/** The name of one of the page's words: a key of {@link PAGE_WORDS} (`'title'`, `'s1'`, ...). */
export type WordKey = keyof typeof WORDS;

/**
 * The page's fixed words, each in both languages. Typed by name rather than by each literal, so
 * that the API reference lists the shape once; the names are {@link WordKey}.
 */
export const PAGE_WORDS: Readonly<Record<WordKey, PageWord>> = WORDS;

/** One word in one language. */
export function word(key: WordKey, lang: TraceLanguage): string {
  return PAGE_WORDS[key][lang];
}

/** A count of bytes: `13 bytes`, `1 byte`; `13바이트`. */
export function bytesText(n: number, lang: TraceLanguage): string {
  if (lang === 'ko') return `${n}바이트`;
  return n === 1 ? '1 byte' : `${n} bytes`;
}

/** A count of datagrams: `2 datagrams`; `데이터그램 2개`. */
export function datagramsText(n: number, lang: TraceLanguage): string {
  if (lang === 'ko') return `데이터그램 ${n}개`;
  return n === 1 ? '1 datagram' : `${n} datagrams`;
}

// The view's own words for a kernel state; the kernel's own names (ESTABLISHED, ...) are shown as
// the kernel spells them, in both languages, as `ss` and the lecture's slides do.
const STATE_WORDS = {
  unread: { en: 'not read yet', ko: '아직 읽지 않음' },
  unknown: { en: 'unknown', ko: '알 수 없음' },
  gone: { en: 'gone', ko: '사라짐' },
} as const;

/** A kernel state as the page shows it: the view's own words translated, the kernel's names as they are. */
export function kernelStateText(state: string, lang: TraceLanguage): string {
  return Object.hasOwn(STATE_WORDS, state) ? STATE_WORDS[state as keyof typeof STATE_WORDS][lang] : state;
}

// Why a connection closed, as the server traces it (src/transport/tcp-server.ts): the reasons in
// words; error codes (ECONNRESET, ERR_IDLE_TIMEOUT) are shown as they are.
const REASON_WORDS: Readonly<Record<string, Record<TraceLanguage, string>>> = {
  done: { en: 'done', ko: '정상 종료' },
  'health check': { en: 'health check', ko: '상태 확인' },
  'close timeout': { en: 'close timeout', ko: '닫기 시간 초과' },
  destroyed: { en: 'destroyed', ko: '강제 종료' },
  'idle timeout': { en: 'idle timeout', ko: '유휴 시간 초과' },
  'rate limit': { en: 'rate limit', ko: '전송률 제한' },
};

/** A close reason as the page shows it. */
export function reasonText(reason: string, lang: TraceLanguage): string {
  return REASON_WORDS[reason]?.[lang] ?? reason;
}
