/**
 * One connection of the view as a Mermaid `sequenceDiagram` (GitHub and many note tools render
 * it), for a learner's notes: the accept, the bytes each way with their text, the FINs, the closes
 * and the kernel's states of both ends. Pure.
 */
import type { TraceLanguage } from '../trace/schema.js';
import type { ViewAddress, ViewConnection, ViewEvent } from './state.js';

const WORDS = {
  en: {
    client: 'client',
    server: 'server',
    connect: 'connect() → accept() (4a)',
    handshake: 'TLS handshake (4a)',
    resumed: ' (session resumed)',
    bytes: (n: number) => (n === 1 ? '1 byte' : `${n} bytes`),
    fin: 'FIN',
    eof: 'read() returns 0',
    close: 'close()',
    shutdown: 'shutdown(): FIN',
    drop: 'reply not sent (rate limit)',
    kernel: 'kernel',
    first: (who: string) => `${who} closed first`,
  },
  ko: {
    client: '클라이언트',
    server: '서버',
    connect: '연결의 요청 connect() → 연결요청에 대한 수락 accept() (4a)',
    handshake: 'TLS 핸드셰이크 (4a)',
    resumed: ' (세션 재개)',
    bytes: (n: number) => `${n}바이트`,
    fin: 'FIN',
    eof: 'read()가 0을 반환',
    close: '연결종료 close()',
    shutdown: 'shutdown(): FIN',
    drop: '응답하지 않음 (전송률 제한)',
    kernel: '커널',
    first: (who: string) => `${who}가 먼저 닫음`,
  },
} as const;

function where(a: ViewAddress): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** Text made safe for one Mermaid message: no line breaks, no `;` or `#` (Mermaid's entity syntax). */
export function mermaidText(text: string): string {
  return (
    text
      .replace(/[#;]/g, (c) => (c === '#' ? '#35;' : '#59;'))
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control bytes are what is shown
      .replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\u0000' ? '\\0' : c === '\n' ? '\\n' : ' '))
      .trim()
  );
}

function payload(e: ViewEvent, lang: TraceLanguage): string {
  const n = WORDS[lang].bytes(e.bytes ?? 0);
  return e.text === undefined || e.text === '' ? n : `${n}: "${mermaidText(e.text)}"`;
}

/** The connection's sequence diagram in Mermaid syntax, in English or Korean. */
export function toMermaid(c: ViewConnection, lang: TraceLanguage = 'en'): string {
  const w = WORDS[lang];
  const lines = [
    'sequenceDiagram',
    `  participant C as ${w.client} ${mermaidText(where(c.remote))}`,
    `  participant S as ${w.server} ${mermaidText(where(c.local))}`,
  ];
  let finSent = false;
  for (const e of c.events) {
    // close() sends the FIN unless shutdown() did already (a reset aside).
    if (c.transport === 'tcp' && e.source === 'server' && e.action === 'close' && !finSent) {
      lines.push(`  S->>C: ${w.close}: ${w.fin}`);
    }
    if (e.source === 'server' && (e.action === 'shutdown' || e.action === 'close')) finSent = true;
    const line = mermaidLine(e, c.transport, lang);
    if (line !== undefined) lines.push(`  ${line}`);
  }
  if (c.closedFirst !== undefined) {
    lines.push(`  Note over C,S: ${w.first(c.closedFirst === 'server' ? w.server : w.client)}`);
  }
  return `${lines.join('\n')}\n`;
}

function mermaidLine(e: ViewEvent, transport: 'tcp' | 'udp', lang: TraceLanguage): string | undefined {
  const w = WORDS[lang];
  if (e.source === 'kernel') {
    return `Note over ${e.end === 'client' ? 'C' : 'S'}: ${w.kernel} ${e.state}`;
  }
  if (e.source === 'client') {
    // The bytes are drawn once, from the server's side; the client's own calls are notes.
    if (e.action === 'close') return `Note over C: ${w.close}`;
    if (e.action === 'eof') return `Note over C: ${w.eof}`;
    return undefined;
  }
  switch (e.action) {
    case 'accept':
      return `C->>S: ${w.connect}`;
    case 'handshake':
      // Both ways (ClientHello, ServerHello ... Finished): one arrow each, the agreement on the second.
      return `C->>S: ${w.handshake}\n  S->>C: ${mermaidText(e.tls ?? '?')}${e.tlsResumed ? w.resumed : ''}`;
    case 'read':
    case 'recvfrom':
      return `C->>S: ${transport === 'udp' ? 'sendto() → recvfrom() ' : 'write() → read() '}${payload(e, lang)}`;
    case 'write':
    case 'sendto':
      return `S->>C: ${transport === 'udp' ? 'sendto() ' : 'write() '}${payload(e, lang)}`;
    case 'drop':
      return `Note over S: ${w.drop}`;
    case 'eof':
      return `C->>S: ${w.fin} (${w.eof})`;
    case 'shutdown':
      return `S->>C: ${w.shutdown}`;
    case 'close':
      return e.reason !== undefined && e.reason !== 'done'
        ? `Note over S: ${mermaidText(e.reason)}`
        : undefined;
    case 'error':
      return `Note over S: error ${mermaidText(e.reason ?? '')}`;
    default:
      return undefined;
  }
}
