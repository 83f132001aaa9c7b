/**
 * `--hex` on the programs: each block byte for byte as `hexdump -C` prints the same bytes, headed
 * by the connection and the direction, in both languages; each block right after its trace line
 * when `--trace` is on too; datagrams; the refusals; a dump whose reader went away (the server
 * keeps serving); and a slow reader, against which a fast echo must stay within a bounded memory.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import {
  binPath,
  listeningPort,
  runBin,
  type StartedServer,
  startServer,
  testEnv,
} from '../helpers/process.js';
import { needs, TOOLS, toolPath } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

async function server(t: TestContext, args: readonly string[]): Promise<StartedServer> {
  const started = await startServer(args[0] === 'userver' ? 'userver' : 'hserver', args.slice(1));
  t.after(() => started.stop('SIGKILL'));
  return started;
}

/** What `hexdump -C` prints for `bytes`. */
function realHexdump(bytes: Buffer): string {
  const run = spawnSync(toolPath(TOOLS.hexdump), ['-C', '-v'], { input: bytes, encoding: 'latin1' });
  assert.equal(run.status, 0);
  return run.stdout;
}

describe('--hex on hserver and hclient', needs(TOOLS.hexdump), () => {
  test('hello: the server dumps its write, the client its read, as hexdump -C', async (t) => {
    const s = await server(t, ['hserver', '--hex', '--count', '1', '--host', '127.0.0.1', '0']);
    const client = await runBin('hclient', ['--hex', '127.0.0.1', String(s.port)]);
    assert.equal(client.code, 0, client.stderr);
    assert.equal(client.stdout.toString(), 'Message from server: Hello World! \n');
    const dump = realHexdump(Buffer.from('Hello World!\0'));
    assert.equal(client.stderr, `[127.0.0.1:${s.port} → client] read 13 bytes\n${dump}`);
    assert.equal((await s.exited()).code, 0);
    const match = /\[#1 server → 127\.0\.0\.1:(\d+)\] wrote 13 bytes\n([^[]*)/.exec(s.stderr());
    assert.ok(match, s.stderr());
    assert.equal(match[2], dump);
  });

  test('echo with --trace --lang ko: each block follows its trace line, offsets go on', async (t) => {
    const s = await server(t, [
      'hserver',
      '--hex',
      '--trace',
      '--lang',
      'ko',
      '--service',
      'echo',
      '--count',
      '1',
      '0',
    ]);
    const input = 'hello\nworld, this is a longer line of text\n';
    const client = await runBin(
      'hclient',
      ['--hex', '--trace', '--service', 'echo', '127.0.0.1', String(s.port)],
      {
        input,
      },
    );
    assert.equal(client.code, 0, client.stderr);
    assert.equal((await s.exited()).code, 0);
    const lines = s.stderr().split('\n');
    const reads = lines.flatMap((line, i) =>
      /4b 데이터 송수신 read\(\): #1 \d+바이트 수신/.test(line) ? [i] : [],
    );
    assert.equal(reads.length, 2, s.stderr());
    const [first, second] = reads as [number, number];
    assert.match(lines[first + 1] ?? '', /^\[#1 127\.0\.0\.1:\d+ → 서버\] 6바이트 읽음$/);
    assert.equal(lines[first + 2], '00000000  68 65 6c 6c 6f 0a                                 |hello.|');
    assert.equal(lines[first + 3], '00000006');
    assert.match(lines[first + 4] ?? '', /4b 데이터 송수신 write\(\): #1 6바이트 송신/);
    assert.match(lines[first + 5] ?? '', /^\[#1 서버 → 127\.0\.0\.1:\d+\] 6바이트 씀$/);
    // The second read's lines count on from the first's 6 bytes, as hexdump -s 6 would.
    assert.match(lines[second + 1] ?? '', /37바이트 읽음$/);
    assert.equal(
      lines[second + 2],
      '00000006  77 6f 72 6c 64 2c 20 74  68 69 73 20 69 73 20 61  |world, this is a|',
    );
    assert.equal(lines[second + 5], '0000002b');
    // The client's trace and dump, in English, in the same order.
    const c = client.stderr.split('\n');
    const write = c.indexOf('[client] 3 write(): 6 bytes sent');
    assert.notEqual(write, -1, client.stderr);
    assert.equal(c[write + 1], `[client → 127.0.0.1:${s.port}] wrote 6 bytes`);
  });

  test('the classic services: time and chargen dump what the server writes, discard what it reads and the client sends', async (t) => {
    const time = await server(t, [
      'hserver',
      '--service',
      'time',
      '--hex',
      '--count',
      '1',
      '--host',
      '127.0.0.1',
      '0',
    ]);
    const timeRun = await runBin('hclient', ['--hex', '--service', 'time', '127.0.0.1', String(time.port)]);
    assert.equal(timeRun.code, 0, timeRun.stderr);
    const seconds = Number(/\((\d+) seconds since 1900/.exec(timeRun.stdout.toString())?.[1]);
    const wire = Buffer.alloc(4);
    wire.writeUInt32BE(seconds);
    assert.equal(timeRun.stderr, `[127.0.0.1:${time.port} → client] read 4 bytes\n${realHexdump(wire)}`);
    await time.exited();
    assert.match(
      time.stderr(),
      new RegExp(`\\] wrote 4 bytes\\n${realHexdump(wire).replace(/[|.*+?^${}()[\]\\]/g, '\\$&')}`),
    );

    const discard = await server(t, [
      'hserver',
      '--service',
      'discard',
      '--hex',
      '--count',
      '1',
      '--host',
      '127.0.0.1',
      '0',
    ]);
    const input = Buffer.from([...Buffer.from('discard me\n'), 0x00, 0xff]);
    const discardRun = await runBin(
      'hclient',
      ['--hex', '--service', 'discard', '127.0.0.1', String(discard.port)],
      {
        input,
      },
    );
    assert.equal(discardRun.code, 0, discardRun.stderr);
    assert.equal(
      discardRun.stderr,
      `[client → 127.0.0.1:${discard.port}] wrote 13 bytes\n${realHexdump(input)}`,
    );
    await discard.exited();
    assert.ok(
      discard.stderr().includes(`→ server] read ${input.length} bytes\n${realHexdump(input)}`),
      discard.stderr(),
    );

    const chargen = await server(t, [
      'hserver',
      '--service',
      'chargen',
      '--hex',
      '--count',
      '1',
      '--host',
      '127.0.0.1',
      '0',
    ]);
    const chargenRun = await runBin('hclient', [
      '--service',
      'chargen',
      '--bytes',
      '7030',
      '127.0.0.1',
      String(chargen.port),
    ]);
    assert.equal(chargenRun.code, 0, chargenRun.stderr);
    await chargen.exited();
    // Each write of 95 lines is its own block, the first from offset 0, the next from 7030.
    const first = /\] wrote 7030 bytes\n([^[]*)/.exec(chargen.stderr());
    assert.ok(first, chargen.stderr().slice(0, 2000));
    assert.match(
      first[1] ?? '',
      /^00000000 {2}20 21 22 23 24 25 26 27 {2}28 29 2a 2b 2c 2d 2e 2f {2}\| !"#\$%&'\(\)\*\+,-\.\/\|\n/,
    );
    assert.match(chargen.stderr(), /\n00001b76 {2}/, 'the second write starts at offset 7030 (0x1b76)');
  });

  test('greet: the dialogue both ways', async (t) => {
    const s = await server(t, ['hserver', '--hex', '--service', 'greet', '--count', '1', '0']);
    const client = await runBin('hclient', ['--hex', '--service', 'greet', '127.0.0.1', String(s.port)]);
    assert.equal(client.code, 0, client.stderr);
    assert.match(client.stderr, /\[client → 127\.0\.0\.1:\d+\] wrote \d+ bytes\n00000000 {2}/);
    assert.match(client.stderr, /\[127\.0\.0\.1:\d+ → client\] read \d+ bytes\n00000000 {2}/);
    assert.equal((await s.exited()).code, 0);
    assert.match(s.stderr(), /\[#1 127\.0\.0\.1:\d+ → server\] read \d+ bytes\n/);
    assert.match(s.stderr(), /\[#1 server → 127\.0\.0\.1:\d+\] wrote \d+ bytes\n/);
  });
});

describe('--hex on userver and uclient', needs(TOOLS.hexdump), () => {
  test('each datagram from offset 0, received and sent', async (t) => {
    const s = await server(t, [
      'userver',
      '--hex',
      '--service',
      'echo',
      '--count',
      '1',
      '--host',
      '127.0.0.1',
      '0',
    ]);
    const client = await runBin('uclient', [
      '--hex',
      '--lang',
      'ko',
      '--service',
      'echo',
      '--message',
      'ping',
      '127.0.0.1',
      String(s.port),
    ]);
    assert.equal(client.code, 0, client.stderr);
    const dump = realHexdump(Buffer.from('ping'));
    assert.equal(
      client.stderr,
      `[클라이언트 → 127.0.0.1:${s.port}] 4바이트 송신\n${dump}[127.0.0.1:${s.port} → 클라이언트] 4바이트 수신\n${dump}`,
    );
    assert.equal((await s.exited()).code, 0);
    assert.match(
      s.stderr(),
      new RegExp(`\\[127\\.0\\.0\\.1:\\d+ → server\\] received 4 bytes\\n${literal(dump)}`),
    );
    assert.match(
      s.stderr(),
      new RegExp(`\\[server → 127\\.0\\.0\\.1:\\d+\\] sent 4 bytes\\n${literal(dump)}`),
    );
  });
});

function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('--hex: datagrams past the bound', () => {
  test('a flood with stderr unread: the dumps past the bound are dropped, counted and said', async (t) => {
    const child = spawn(
      binPath('userver'),
      ['--hex', '--service', 'echo', '--no-rate-limit', '--host', '127.0.0.1', '0'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: testEnv() },
    );
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let text = '';
    const stderr = child.stderr;
    stderr.setEncoding('latin1').on('data', (c: string) => {
      text += c;
    });
    await until(() => /listening on .*:\d+\n/.test(text), 'the listening line');
    const port = Number(/:(\d+)\n/.exec(text)?.[1]);
    stderr.pause(); // nobody reads the dump now: the pipe fills, then stderr's buffer
    const socket = createSocket('udp4');
    t.after(() => socket.close());
    const payload = Buffer.alloc(1400, 0x41);
    const datagrams = 600;
    // Each datagram differs from the reply before it: the server's loop guard drops a peer that
    // sends its own replies back.
    const deadline = AbortSignal.timeout(20_000);
    for (let i = 0; i < datagrams; i++) {
      // One at a time, each answered before the next: none is lost to a full receive buffer.
      const reply = once(socket, 'message', { signal: deadline });
      payload.writeUInt32BE(i, 0);
      socket.send(payload, port, '127.0.0.1');
      await reply;
    }
    stderr.resume();
    const blocks = () => (text.match(/\] (received|sent) 1400 bytes\n/g) ?? []).length;
    const dropped = () =>
      [...text.matchAll(/userver: --hex: (\d+) dumps? dropped: the output could not keep up\n/g)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    // Every datagram each way is either dumped or counted in a dropped line.
    await until(() => blocks() + dropped() === 2 * datagrams, 'every block dumped or counted', 20_000);
    assert.ok(dropped() > 0, 'some were dropped: 1,200 dumps of 1,400 bytes are more than the bound');
    assert.ok(blocks() > 0);
    child.kill('SIGTERM');
    await once(child, 'exit');
  });
});

describe('--hex refusals', () => {
  test('hbench refuses it, with the reason and what to run instead', async () => {
    const r = await runBin('hbench', ['--hex', '127.0.0.1', '9']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "hbench: --hex is not for a benchmark (dumping every connection's bytes would measure the terminal, not the server): run hclient --hex for one connection\n",
    );
  });

  test('not with --trace-format json, nor with --workers', async () => {
    const json = await runBin('hclient', ['--hex', '--trace-format', 'json', '127.0.0.1', '9']);
    assert.equal(json.code, 1);
    assert.equal(
      json.stderr,
      'hclient: --hex cannot be combined with --trace-format json (its lines must stay JSON)\n',
    );
    const workers = await runBin('hserver', ['--hex', '--workers', '2', '0']);
    assert.equal(workers.code, 1);
    assert.equal(
      workers.stderr,
      "hserver: --hex cannot be combined with --workers (each worker's dump would interleave with the others')\n",
    );
  });
});

describe('--hex output failures and backpressure', () => {
  test('the dump reader goes away: no stack trace, the server keeps serving', async (t) => {
    const child = spawn(binPath('hserver'), ['--hex', '--service', 'echo', '--host', '127.0.0.1', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: testEnv(),
    });
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    await until(() => /listening on .*:\d+\n/.test(err), 'the listening line');
    const port = Number(/:(\d+)\n/.exec(err)?.[1]);
    child.stderr.destroy(); // the reader of stderr goes away: every later write is EPIPE
    for (let i = 0; i < 3; i++) {
      const r = await runBin('hclient', ['--service', 'echo', '127.0.0.1', String(port)], {
        input: `line ${i}\n`,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.toString(), `Message from server: line ${i}\n`);
    }
    assert.equal(child.exitCode, null, 'still serving');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });

  test('the dump on a full disk (/dev/full): no stack trace, the server keeps serving', async (t) => {
    const full = openSync('/dev/full', 'w');
    t.after(() => closeSync(full));
    const child = spawn(
      binPath('hserver'),
      ['--hex', '--trace', '--service', 'echo', '--host', '127.0.0.1', '0'],
      {
        stdio: ['ignore', 'ignore', full],
        env: testEnv(),
      },
    );
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const port = await listeningPort(child.pid ?? 0);
    for (let i = 0; i < 3; i++) {
      const r = await runBin('hclient', ['--service', 'echo', '127.0.0.1', String(port)], {
        input: `line ${i}\n`,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.toString(), `Message from server: line ${i}\n`);
    }
    assert.equal(child.exitCode, null, 'still serving');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });

  test('a 20 MiB echo with the dump read slowly: every block, in a bounded memory', async (t) => {
    const child = spawn(binPath('hserver'), ['--hex', '--service', 'echo', '--host', '127.0.0.1', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: testEnv(),
    });
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let head = '';
    let dumped = 0;
    const stderr = child.stderr;
    const onHead = (c: Buffer) => (head += c.toString('latin1'));
    stderr.on('data', onHead);
    await until(() => /listening on .*:\d+\n/.test(head), 'the listening line');
    stderr.off('data', onHead);
    const port = Number(/:(\d+)\n/.exec(head)?.[1]);
    const rss = () =>
      Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) * 1024;
    const before = rss();
    // The slow reader: one chunk of the pipe at a time, the next on a later turn of our loop.
    let carry = '';
    let dropLines = 0;
    stderr.on('data', (c: Buffer) => {
      dumped += c.length;
      const text = carry + c.toString('latin1');
      if (/dumps? dropped/.test(text)) dropLines++;
      carry = text.slice(-40);
      stderr.pause();
      setTimeout(() => stderr.resume(), 1);
    });
    const total = 20 * 1024 * 1024;
    const socket = connect(port, '127.0.0.1');
    t.after(() => socket.destroy());
    await once(socket, 'connect');
    let echoed = 0;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rss());
    }, 20);
    t.after(() => clearInterval(sampler));
    socket.on('data', (c: Buffer) => (echoed += c.length));
    const piece = Buffer.alloc(256 * 1024, 0x5a);
    for (let sent = 0; sent < total; sent += piece.length) {
      if (!socket.write(piece)) await once(socket, 'drain');
    }
    socket.end();
    await until(() => echoed === total, `the echo of ${total} bytes (got ${echoed})`, 120_000);
    clearInterval(sampler);
    const grew = peak - before;
    t.diagnostic(`the server grew by ${(grew / 2 ** 20).toFixed(1)} MiB; ${dumped} bytes of dump read`);
    // 16 bytes are a 79-byte line, each way: unbounded, the dump would hold about 200 MB.
    assert.ok(grew < 64 * 1024 * 1024, `the server grew by ${(grew / 2 ** 20).toFixed(1)} MiB`);
    // Held back, not dropped: every block came (the last ones may still be on their way).
    await until(() => dumped >= Math.floor(total * 2 * (79 / 16)), 'the whole dump', 60_000);
    assert.equal(dropLines, 0, 'no dump was dropped');
    child.kill('SIGTERM');
    await once(child, 'exit');
  });
});
