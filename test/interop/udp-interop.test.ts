/**
 * Interop with UDP peers in C (c/udp_server.c, c/udp_client.c), built with gcc, talking to
 * userver and uclient in both directions.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildProgram } from '../../c/build.js';
import { runBin, runCommand, startServer } from '../helpers/process.js';

const HOST = '127.0.0.1';

describe('a C UDP client talks to userver', () => {
  const client = buildProgram('udp_client');

  test('hello: the reply is 13 bytes, "Hello World!" and its NUL', async (t) => {
    const server = await startServer('userver', ['--host', HOST, '--count', '1', '0']);
    t.after(() => server.stop('SIGKILL'));
    const result = await runCommand(client, [HOST, String(server.port), 'hi']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'Message from server: Hello World!\n');
    assert.equal(result.stderr, `received 13 bytes from port ${server.port}\n`);
    assert.deepEqual(await server.exited(), { code: 0, signal: null });
  });

  test('echo: the same bytes come back, an empty datagram included', async (t) => {
    const server = await startServer('userver', ['--service', 'echo', '--host', HOST, '--count', '2', '0']);
    t.after(() => server.stop('SIGKILL'));
    const text = await runCommand(client, [HOST, String(server.port), 'hello from C, 안녕']);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout.toString(), 'Message from server: hello from C, 안녕\n');
    assert.equal(
      text.stderr,
      `received ${Buffer.byteLength('hello from C, 안녕')} bytes from port ${server.port}\n`,
    );
    const empty = await runCommand(client, [HOST, String(server.port), '']);
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout.toString(), 'Message from server: \n');
    assert.equal(empty.stderr, `received 0 bytes from port ${server.port}\n`);
    assert.deepEqual(await server.exited(), { code: 0, signal: null });
  });
});

describe('uclient talks to a C UDP server', () => {
  const server = buildProgram('udp_server');

  test('hello: uclient prints what hclient prints', async (t) => {
    const c = await startServer(server, [HOST, '0', 'hello', '1']);
    t.after(() => c.stop('SIGKILL'));
    const result = await runBin('uclient', [HOST, String(c.port)]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'Message from server: Hello World! \n');
    assert.deepEqual(await c.exited(), { code: 0, signal: null });
  });

  test('echo: the C echo server sends each line back', async (t) => {
    const c = await startServer(server, [HOST, '0', 'echo', '3']);
    t.after(() => c.stop('SIGKILL'));
    const result = await runBin('uclient', ['--service', 'echo', HOST, String(c.port)], {
      input: 'one\n\nthree\nq\n',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout.toString(),
      'Message from server: one\nMessage from server: \nMessage from server: three\n',
    );
    assert.deepEqual(await c.exited(), { code: 0, signal: null });
  });

  test('echo: a 65,507-byte datagram crosses intact', async (t) => {
    const c = await startServer(server, [HOST, '0', 'echo', '1']);
    t.after(() => c.stop('SIGKILL'));
    const big = 'x'.repeat(65_506);
    const result = await runBin('uclient', ['--service', 'echo', HOST, String(c.port)], {
      input: `${big}\n`,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), `Message from server: ${big}\n`);
    assert.deepEqual(await c.exited(), { code: 0, signal: null });
  });
});
