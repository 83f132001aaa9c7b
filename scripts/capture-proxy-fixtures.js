// node scripts/capture-proxy-fixtures.js [haproxy binary]: captures the PROXY protocol headers a
// real HAProxy sends into test/fixtures/proxy/*.bin (loopback only, free ports).
//
// One Node listener per case records every byte HAProxy sends on the first connection it gets
// (until HAProxy closes it), then the script stops HAProxy. Client cases connect to a frontend,
// send CLIENT_TEXT and close, so each capture is the header followed by those service bytes; check
// cases have no frontend: HAProxy's own health check connects, sends its header and closes.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HAPROXY = process.argv[2] ?? 'haproxy';
const OUT = new URL('../test/fixtures/proxy/', import.meta.url);
const CLIENT_TEXT = "Hi. I'm Bob.\n";
const DEADLINE_MS = 15_000;

/** name, server line options, frontend bind host (undefined: a health check case), frontend extras. */
const CASES = [
  { name: 'haproxy-v1-tcp4', server: 'send-proxy', bind: '127.0.0.1' },
  { name: 'haproxy-v1-tcp6', server: 'send-proxy', bind: '::1' },
  { name: 'haproxy-v2-tcp4', server: 'send-proxy-v2', bind: '127.0.0.1' },
  { name: 'haproxy-v2-tcp6', server: 'send-proxy-v2', bind: '::1' },
  {
    name: 'haproxy-v2-tcp4-crc32c-unique-id',
    server: 'send-proxy-v2 proxy-v2-options crc32c,unique-id',
    bind: '127.0.0.1',
    frontend: ['unique-id-format %{+X}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid'],
  },
  { name: 'haproxy-v1-check', server: 'send-proxy check check-send-proxy inter 500ms' },
  { name: 'haproxy-v2-check-local', server: 'send-proxy-v2 check check-send-proxy inter 500ms' },
];

/** A port that was free a moment ago (for HAProxy's frontends, which cannot take port 0). */
async function freePort(host) {
  const server = net.createServer().listen(0, host);
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** A listener that resolves `captured` with all bytes of its first connection. */
async function recorder() {
  let resolveCapture;
  const captured = new Promise((resolve) => {
    resolveCapture = resolve;
  });
  const server = net.createServer((socket) => {
    const chunks = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => resolveCapture(Buffer.concat(chunks)));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: server.address().port, captured };
}

async function connectWithRetry(host, port, deadline) {
  for (;;) {
    try {
      const socket = net.connect({ host, port });
      await once(socket, 'connect');
      return socket;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'proxy-capture-'));
const recorders = [];
const lines = [
  'defaults',
  '    mode tcp',
  '    timeout connect 2s',
  '    timeout client 5s',
  '    timeout server 5s',
];
for (const c of CASES) {
  const rec = await recorder();
  recorders.push(rec);
  if (c.bind !== undefined) {
    c.frontendPort = await freePort(c.bind);
    const bind = c.bind.includes(':') ? `[${c.bind}]` : c.bind;
    lines.push(`frontend fe_${c.name}`, `    bind ${bind}:${c.frontendPort}`);
    for (const extra of c.frontend ?? []) lines.push(`    ${extra}`);
    lines.push(`    default_backend be_${c.name}`);
  }
  lines.push(`backend be_${c.name}`, `    server s1 127.0.0.1:${rec.port} ${c.server}`);
}
const config = `${lines.join('\n')}\n`;
const configPath = join(dir, 'haproxy.cfg');
writeFileSync(configPath, config);

const version = spawnSync(HAPROXY, ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0];
const haproxy = spawn(HAPROXY, ['-db', '-f', configPath], { stdio: ['ignore', 'inherit', 'inherit'] });
try {
  const deadline = Date.now() + DEADLINE_MS;
  for (const c of CASES) {
    if (c.bind === undefined) continue;
    const socket = await connectWithRetry(c.bind, c.frontendPort, deadline);
    socket.on('error', () => {});
    socket.end(CLIENT_TEXT);
    socket.resume();
  }
  const timeout = new Promise((_, reject) =>
    setTimeout(() => reject(new Error('no capture within the deadline')), DEADLINE_MS).unref(),
  );
  const captures = await Promise.race([Promise.all(recorders.map((r) => r.captured)), timeout]);
  CASES.forEach((c, i) => {
    writeFileSync(new URL(`${c.name}.bin`, OUT), captures[i]);
    console.log(`${c.name}.bin: ${captures[i].length} bytes`);
  });
  writeFileSync(new URL('haproxy.cfg.txt', OUT), config);
  console.log(`captured with ${version}`);
} finally {
  haproxy.kill('SIGTERM');
  for (const r of recorders) r.server.close();
  rmSync(dir, { recursive: true, force: true });
}
