// npm run demo [-- --trace] [-- --lang ko] [-- <more hserver options>]: the lecture's run on
// loopback. Starts hserver on a free port, runs hclient against it, stops the server, and shows
// each command as it goes. Every option goes to hserver; --trace and --lang go to hclient too.
//
// With --trace, both programs print their trace as JSON (--trace-format json), each event stamped
// with the system-wide monotonic clock (CLOCK_MONOTONIC: one clock for every process on Linux).
// The two processes' lines reach this script in whatever order their pipes deliver them, so the
// demo collects everything, then prints it sorted by when it happened, each event with its time
// since the first (`+0.412 ms`). Plain lines (the commands, the programs' own output) are stamped
// when they were read. Where the order surprises (the server's accept(), write() and close()
// before the client sees connect() return), a line says why.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

createRequire(import.meta.url)('../bin/preflight.cjs')('demo');
const { formatMerged, parseTraceLine } = await import('../dist/src/trace/merge.js');

const extra = process.argv.slice(2);
// What hclient understands of the demo's options: the trace and its language.
const clientExtra = [];
let lang = 'en';
for (let i = 0; i < extra.length; i++) {
  if (extra[i] === '--trace') clientExtra.push(extra[i]);
  else if (extra[i]?.startsWith('--lang=')) {
    clientExtra.push(extra[i]);
    lang = extra[i].slice('--lang='.length);
  } else if (extra[i] === '--lang' && extra[i + 1] !== undefined) {
    clientExtra.push(extra[i], extra[i + 1]);
    lang = extra[++i];
  }
}
if (!extra.includes('--lang') && !extra.some((a) => a.startsWith('--lang='))) {
  const locale = process.env.LC_ALL || process.env.LC_MESSAGES || process.env.LANG || '';
  lang = locale.toLowerCase().startsWith('ko') ? 'ko' : 'en';
}
const tracing = extra.includes('--trace');
// The programs print the trace as JSON; the demo words it (in --lang) once merged.
const traceFormat = tracing ? ['--trace-format', 'json'] : [];

/** Every line, from every source, with its stamp. */
const lines = [];
const seqs = { demo: 0, server: 0, client: 0 };
const now = () => process.hrtime.bigint();
const add = (source, text) => {
  const event = tracing ? parseTraceLine(text) : undefined;
  lines.push(
    event === undefined
      ? { source, seq: seqs[source]++, stampNs: now(), text }
      : { source, seq: seqs[source]++, stampNs: BigInt(event.monotonicNs), event },
  );
  return event;
};
/** Reads `stream` line by line into the merge; `onLine` sees each line (and its event, if any). */
const collect = (source, stream, onLine = () => {}) => {
  const reader = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  reader.on('line', (text) => onLine(text, add(source, text)));
  return once(reader, 'close');
};
const flush = () => {
  if (lines.length > 0) process.stdout.write(`${formatMerged(lines, lang).join('\n')}\n`);
  lines.length = 0;
};

const serverArgs = [...extra, ...traceFormat, '0'];
const portNote = lang === 'ko' ? '포트 0: 시스템이 빈 포트를 고름' : 'port 0: the system picks a free port';
const jsonNote =
  lang === 'ko'
    ? '--trace-format json: 두 프로그램의 이벤트를 시각 순으로 합쳐 글로 보여 주려고'
    : "--trace-format json: so that the demo can merge both programs' events by time, shown as text";
add('demo', `$ bin/hserver ${serverArgs.join(' ')} &        # ${portNote}${tracing ? `; ${jsonNote}` : ''}`);
const server = spawn(process.execPath, ['bin/hserver', ...serverArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
const serverExited = once(server, 'exit');
let serverClosedConnection = () => {};
const serverClosed = new Promise((resolve) => {
  serverClosedConnection = resolve;
});
let onListening = () => {};
const listening = new Promise((resolve) => {
  onListening = resolve;
});
const serverOutput = Promise.all([
  collect('server', server.stdout),
  collect('server', server.stderr, (text, event) => {
    const match = /listening on .*:(\d+)$/.exec(text);
    if (match) onListening(match[1]);
    if (event?.role === 'server' && event.action === 'close') serverClosedConnection();
  }),
]);

let code = 1;
let clientCode = null;
try {
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('hserver did not start within 10 s')), 10_000);
    server.once('exit', (exitCode) => reject(new Error(`hserver exited with ${exitCode}`)));
    listening.then((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
  const clientArgs = [...clientExtra, ...traceFormat, '127.0.0.1', port];
  add('demo', `$ bin/hclient ${clientArgs.join(' ')}`);
  const client = spawn(process.execPath, ['bin/hclient', ...clientArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const clientOutput = Promise.all([collect('client', client.stdout), collect('client', client.stderr)]);
  [clientCode] = await once(client, 'close');
  await clientOutput;
  // The server's close of this client may come a moment after the client is gone: with the
  // trace, wait for it (at most 1 s), so that the kill line comes after it, as it did.
  if (tracing) await Promise.race([serverClosed, new Promise((r) => setTimeout(r, 1000).unref())]);
  // With --count the server has stopped by itself; otherwise SIGTERM stops it.
  if (server.exitCode === null && server.signalCode === null) {
    const termNote =
      lang === 'ko'
        ? 'SIGTERM: 새 연결을 받지 않고, 마무리하고, 닫음 (5단계)'
        : 'SIGTERM: stop accepting, finish, close (step 5)';
    add('demo', `$ kill -TERM ${server.pid}        # ${termNote}`);
    server.kill('SIGTERM');
  }
  [code] = await serverExited;
  await serverOutput;
} catch (error) {
  add('demo', `demo: ${error instanceof Error ? error.message : String(error)}`);
  if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
} finally {
  flush();
}
console.log(
  lang === 'ko'
    ? `hserver 종료 코드 ${code}, hclient 종료 코드 ${clientCode}`
    : `hserver exited with ${code}, hclient with ${clientCode}`,
);
process.exitCode = code === 0 && clientCode === 0 ? 0 : 1;
