import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildProgram as peer } from '../../c/build.js';
import { createEchoServer } from '../../src/services/echo.js';
import { createGreetServer } from '../../src/services/greet.js';
import { runBin, runCommand, startServer } from '../helpers/process.js';

const PROMPT = 'Input message(Q to quit): ';

describe('interop with C peers (c/, not our Node code)', { timeout: 60_000 }, () => {
  test('a C greet client talks with our greet server', async (t) => {
    const server = createGreetServer({ host: '127.0.0.1', port: 0 });
    const { port } = await server.listen();
    t.after(() => server.destroy());
    const bob = await runCommand(peer('greet_client'), ['127.0.0.1', String(port), 'Bob']);
    assert.equal(bob.stderr, '');
    assert.equal(bob.stdout.toString(), "Server: Hi, Bob. I'm Jane\n");
    assert.equal(bob.code, 0);
    const korean = await runCommand(peer('greet_client'), ['127.0.0.1', String(port), '밥']);
    assert.equal(korean.stdout.toString('utf8'), "Server: Hi, 밥. I'm Jane\n");
  });

  test('a C echo client talks with our echo server', async (t) => {
    const server = createEchoServer({ host: '127.0.0.1', port: 0 });
    const { port } = await server.listen();
    t.after(() => server.destroy());
    const result = await runCommand(peer('echo_client'), ['127.0.0.1', String(port)], {
      input: 'hello\n안녕하세요\n\nQ\nnot sent\n',
    });
    assert.equal(result.stderr, '');
    assert.equal(
      result.stdout.toString('utf8'),
      `${PROMPT}Message from server: hello\n${PROMPT}Message from server: 안녕하세요\n${PROMPT}Message from server: \n${PROMPT}`,
    );
    assert.equal(result.code, 0);
    assert.equal(server.stats.bytesEchoed, Buffer.byteLength('hello\n안녕하세요\n\n'));
  });

  test('our echo client talks with a C echo server', async () => {
    const cServer = await startServer(peer('echo_server'), ['0', '1']);
    const result = await runBin('hclient', ['--service', 'echo', '127.0.0.1', String(cServer.port)], {
      input: 'hello\n안녕\nq\n',
    });
    assert.equal(result.stderr, '');
    assert.equal(result.stdout.toString('utf8'), 'Message from server: hello\nMessage from server: 안녕\n');
    assert.equal(result.code, 0);
    assert.deepEqual(await cServer.exited(), { code: 0, signal: null });
  });

  test('our greet client talks with a C greet server', async () => {
    const cServer = await startServer(peer('greet_server'), ['0']);
    const result = await runBin('hclient', [
      '--service',
      'greet',
      '--name',
      '밥',
      '127.0.0.1',
      String(cServer.port),
    ]);
    assert.equal(result.stderr, '');
    assert.equal(
      result.stdout.toString('utf8'),
      "[client] 밥: Hi. I'm 밥.\n[server] Jane: Hi, 밥. I'm Jane\n[client] 밥: Nice to meet you, Jane.\n",
    );
    assert.equal(result.code, 0);
    assert.deepEqual(await cServer.exited(), { code: 0, signal: null });
    assert.equal(cServer.stdout(), "Client: Hi. I'm 밥.\nClient: Nice to meet you, Jane.\n");
  });
});
