import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { binPath, runBin, startServer, testEnv } from '../helpers/process.js';
import { rawConnect, readLine } from '../helpers/raw.js';

const GREET_DIALOGUE =
  "[client] Bob: Hi. I'm Bob.\n[server] Jane: Hi, Bob. I'm Jane\n[client] Bob: Nice to meet you, Jane.\n";

/** A port with nothing listening: bound by us, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

describe('hserver/hclient --service greet|echo', { timeout: 60_000 }, () => {
  test('greet: the dialogue printed with who said each line; Korean names', async (t) => {
    const server = await startServer('hserver', ['--service', 'greet', '--host', '127.0.0.1', '0']);
    t.after(() => server.stop().then(() => {}));
    const bob = await runBin('hclient', ['--service', 'greet', '127.0.0.1', String(server.port)]);
    assert.deepEqual([bob.code, bob.stderr, bob.stdout.toString()], [0, '', GREET_DIALOGUE]);
    const korean = await runBin('hclient', [
      '--service',
      'greet',
      '--name',
      '밥',
      '127.0.0.1',
      String(server.port),
    ]);
    assert.equal(
      korean.stdout.toString('utf8'),
      "[client] 밥: Hi. I'm 밥.\n[server] Jane: Hi, 밥. I'm Jane\n[client] 밥: Nice to meet you, Jane.\n",
    );
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    assert.equal(server.stdout(), '');
  });

  test('greet: --name on the server', async (t) => {
    const server = await startServer('hserver', [
      '--service',
      'greet',
      '--name',
      '제인',
      '--host',
      '127.0.0.1',
      '0',
    ]);
    t.after(() => server.stop().then(() => {}));
    const result = await runBin('hclient', ['--service', 'greet', '127.0.0.1', String(server.port)]);
    assert.equal(
      result.stdout.toString('utf8'),
      "[client] Bob: Hi. I'm Bob.\n[server] 제인: Hi, Bob. I'm 제인\n[client] Bob: Nice to meet you, 제인.\n",
    );
  });

  test('echo: piped input prints the textbook lines without prompts; q quits', async (t) => {
    const server = await startServer('hserver', ['--service', 'echo', '--host', '127.0.0.1', '0']);
    t.after(() => server.stop().then(() => {}));
    const result = await runBin('hclient', ['--service', 'echo', '127.0.0.1', String(server.port)], {
      input: 'hello\r\n안녕하세요\n\nq\nnot sent\n',
    });
    assert.equal(result.stderr, '');
    assert.equal(
      result.stdout.toString('utf8'),
      // Bytes pass through as they are: the \r\n line comes back with its \r.
      'Message from server: hello\r\nMessage from server: 안녕하세요\nMessage from server: \n',
    );
    assert.equal(result.code, 0);
    const eof = await runBin('hclient', ['--service', 'echo', '127.0.0.1', String(server.port)], {
      input: 'last line without newline',
    });
    assert.equal(eof.stdout.toString(), 'Message from server: last line without newline\n');
    assert.equal(eof.code, 0);
  });

  test('echo: input that is not a terminal goes out and comes back byte for byte (NUL, 0x01, 0xff)', async (t) => {
    const server = await startServer('hserver', ['--service', 'echo', '--host', '127.0.0.1', '0']);
    t.after(() => server.stop().then(() => {}));
    const input = Buffer.from('abc\x00\x01\xff\n\xfe\xc3(\r\nq\n', 'latin1');
    const result = await runBin('hclient', ['--service', 'echo', '127.0.0.1', String(server.port)], {
      input,
    });
    assert.equal(result.stderr, '');
    assert.deepEqual(
      result.stdout,
      Buffer.concat([
        Buffer.from('Message from server: '),
        Buffer.from('abc\x00\x01\xff\n', 'latin1'),
        Buffer.from('Message from server: '),
        Buffer.from('\xfe\xc3(\r\n', 'latin1'),
      ]),
    );
    assert.equal(result.code, 0);
  });

  test('echo: SIGINT while waiting for input exits 130, quietly', async (t) => {
    const server = await startServer('hserver', ['--service', 'echo', '--trace', '--host', '127.0.0.1', '0']);
    t.after(() => server.stop().then(() => {}));
    const client = spawn(binPath('hclient'), ['--service', 'echo', '127.0.0.1', String(server.port)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: testEnv(),
    });
    const killer = setTimeout(() => client.kill('SIGKILL'), 10_000);
    t.after(() => clearTimeout(killer));
    let stderr = '';
    client.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = once(client, 'exit');
    // Connected once the server has accepted it; its stdin stays open and empty.
    await new Promise<void>((resolve) => {
      const check = () => {
        if (server.stderr().includes('accept(): #1')) {
          server.child.stderr?.off('data', check);
          resolve();
        }
      };
      server.child.stderr?.on('data', check);
      check();
    });
    client.kill('SIGINT');
    const [code] = await exited;
    assert.equal(code, 130);
    assert.equal(stderr, '');
    client.stdin.destroy();
  });

  test('--trace shows each read and write with byte counts, in English and Korean', async () => {
    const server = await startServer('hserver', [
      '--service',
      'greet',
      '--trace',
      '--host',
      '127.0.0.1',
      '0',
    ]);
    const en = await runBin('hclient', ['--service', 'greet', '--trace', '127.0.0.1', String(server.port)]);
    assert.equal(en.stdout.toString(), GREET_DIALOGUE);
    for (const line of [
      '[client] 3 write(): 13 bytes sent\n',
      '[client] 3 read(): 18 bytes received\n',
      '[client] 3 write(): 24 bytes sent\n',
      '[client] 3 shutdown(): our side closed for writing (FIN sent)\n',
    ]) {
      assert.ok(en.stderr.includes(line), `${line} in ${en.stderr}`);
    }
    const ko = await runBin('hclient', [
      '--service',
      'greet',
      '--trace',
      '--lang',
      'ko',
      '127.0.0.1',
      String(server.port),
    ]);
    assert.ok(ko.stderr.includes('[클라이언트] 3 데이터 송수신 write(): 13바이트 송신\n'), ko.stderr);
    assert.ok(ko.stderr.includes('[클라이언트] 3 데이터 송수신 read(): 18바이트 수신\n'), ko.stderr);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    for (const line of [
      '[server] 4b read(): #1 13 bytes received\n',
      '[server] 4b write(): #1 18 bytes sent\n',
      '[server] 4b read(): #1 24 bytes received\n',
    ]) {
      assert.ok(server.stderr().includes(line), `${line} in ${server.stderr()}`);
    }
  });

  test('--max-connections: the client past the limit gets a clear refusal and exit 1', async (t) => {
    const server = await startServer('hserver', [
      '--service',
      'greet',
      '--max-connections',
      '1',
      '--host',
      '127.0.0.1',
      '0',
    ]);
    t.after(() => server.stop().then(() => {}));
    const holder = await rawConnect(server.port);
    t.after(() => {
      holder.destroy();
    });
    holder.write("Hi. I'm Bob.\n");
    assert.equal(await readLine(holder), "Hi, Bob. I'm Jane");
    const refused = await runBin('hclient', ['--service', 'greet', '127.0.0.1', String(server.port)]);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `read() error! 127.0.0.1:${server.port} answered with an error: ERROR too-many-connections: the server is busy, try again later\n`,
    );
    assert.equal(refused.stdout.toString(), "[client] Bob: Hi. I'm Bob.\n");
  });

  test('errors: same style and exit codes as the hello programs', async () => {
    const port = String(await closedPort());
    const cases: [string, string[], string][] = [
      [
        'hclient',
        ['--service', 'chat', '127.0.0.1', port],
        "hclient: invalid --service 'chat': expected hello, greet, echo, discard, chargen, daytime, time, qotd\n",
      ],
      [
        'hclient',
        ['--service', 'echo', '--name', 'Bob', '127.0.0.1', port],
        'hclient: --name applies to --service greet, not echo\n',
      ],
      [
        'hclient',
        ['--service', 'greet', '--name', '', '127.0.0.1', port],
        "hclient: invalid name '': the name is empty\n",
      ],
      [
        'hclient',
        ['--service', 'greet', '127.0.0.1', port],
        `connect() error! 127.0.0.1:${port}: connection refused (ECONNREFUSED)\n`,
      ],
      [
        'hclient',
        ['--service', 'echo', '127.0.0.1', port],
        `connect() error! 127.0.0.1:${port}: connection refused (ECONNREFUSED)\n`,
      ],
      [
        'hserver',
        ['--service', 'echo', '--message', 'hi', '0'],
        'hserver: --message applies to --service hello or qotd, not echo\n',
      ],
      [
        'hserver',
        ['--service', 'greet', '--idle-timeout', '0', '0'],
        "hserver: invalid --idle-timeout '0': expected a positive number of seconds, from 0.001 to 2147483\n",
      ],
      [
        'hserver',
        ['--service', 'greet', '--name', 'a\tb', '0'],
        "hserver: invalid name 'a\tb': the name has a control or invisible character\n",
      ],
    ];
    for (const [bin, args, stderr] of cases) {
      const result = await runBin(bin, args, { env: testEnv() });
      assert.deepEqual(
        [result.code, result.stderr, result.stdout.toString()],
        [1, stderr, ''],
        args.join(' '),
      );
    }
  });

  test('a server answer the client does not expect: exit 1 with the reason', async (t) => {
    const server = await startServer('hserver', [
      '--service',
      'greet',
      '--max-line-bytes',
      '8',
      '--host',
      '127.0.0.1',
      '0',
    ]);
    t.after(() => server.stop().then(() => {}));
    const result = await runBin('hclient', ['--service', 'greet', '127.0.0.1', String(server.port)]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^read\(\) error! .* ERROR line-too-long: that line is too long, goodbye\n$/);
  });

  test('hello is unchanged: the default service', async (t) => {
    const server = await startServer('hserver', ['--host', '127.0.0.1', '0']);
    t.after(() => server.stop().then(() => {}));
    const result = await runBin('hclient', ['127.0.0.1', String(server.port)]);
    assert.deepEqual([result.code, result.stdout.toString()], [0, 'Message from server: Hello World! \n']);
    const explicit = await runBin('hclient', ['--service', 'hello', '127.0.0.1', String(server.port)]);
    assert.equal(explicit.stdout.toString(), 'Message from server: Hello World! \n');
  });

  test('--help lists the new options', async () => {
    for (const bin of ['hserver', 'hclient']) {
      const result = await runBin(bin, ['--help']);
      assert.equal(result.code, 0);
      assert.match(
        result.stdout.toString(),
        /--service NAME +hello, greet \(the Bob\/Jane dialogue\), echo, or a\n +classic test service: discard/,
      );
      assert.match(result.stdout.toString(), /--name NAME/);
    }
  });
});
