/**
 * Interop with UDP peers that are not our code: a few lines of C in the textbook's style, built
 * with gcc, talking to userver and uclient in both directions.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { buildC } from '../helpers/c-programs.js';
import { ROOT, runBin, runCommand, startServer } from '../helpers/process.js';

const HOST = '127.0.0.1';

// uecho_server.c of the textbook, plus a hello mode, a bound address, a count and a ready line.
const SERVER_C = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
int main(int argc, char *argv[]) {
    char message[65536];
    char hello[] = "Hello World!";
    struct sockaddr_in serv_adr, clnt_adr;
    socklen_t adr_sz = sizeof(serv_adr);
    int i, str_len, count, serv_sock;
    if (argc != 5) { printf("Usage : %s <IP> <port> <hello|echo> <count>\n", argv[0]); exit(1); }
    serv_sock = socket(PF_INET, SOCK_DGRAM, 0);
    memset(&serv_adr, 0, sizeof(serv_adr));
    serv_adr.sin_family = AF_INET;
    serv_adr.sin_addr.s_addr = inet_addr(argv[1]);
    serv_adr.sin_port = htons(atoi(argv[2]));
    if (bind(serv_sock, (struct sockaddr*)&serv_adr, sizeof(serv_adr)) == -1) { fputs("bind() error\n", stderr); exit(1); }
    getsockname(serv_sock, (struct sockaddr*)&serv_adr, &adr_sz);
    fprintf(stderr, "listening on %s:%d\n", argv[1], ntohs(serv_adr.sin_port));
    fflush(stderr);
    count = atoi(argv[4]);
    for (i = 0; i < count; i++) {
        adr_sz = sizeof(clnt_adr);
        str_len = recvfrom(serv_sock, message, sizeof(message), 0, (struct sockaddr*)&clnt_adr, &adr_sz);
        if (str_len == -1) { fputs("recvfrom() error\n", stderr); exit(1); }
        if (strcmp(argv[3], "hello") == 0)
            sendto(serv_sock, hello, sizeof(hello), 0, (struct sockaddr*)&clnt_adr, adr_sz);
        else
            sendto(serv_sock, message, str_len, 0, (struct sockaddr*)&clnt_adr, adr_sz);
    }
    close(serv_sock);
    return 0;
}
`;

// uecho_client.c of the textbook, one message from argv, with a receive timeout so a test cannot hang.
const CLIENT_C = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>
int main(int argc, char *argv[]) {
    char message[65536];
    struct sockaddr_in serv_adr, from_adr;
    socklen_t adr_sz;
    struct timeval tv = { 5, 0 };
    int sock, str_len;
    if (argc != 4) { printf("Usage : %s <IP> <port> <message>\n", argv[0]); exit(1); }
    sock = socket(PF_INET, SOCK_DGRAM, 0);
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    memset(&serv_adr, 0, sizeof(serv_adr));
    serv_adr.sin_family = AF_INET;
    serv_adr.sin_addr.s_addr = inet_addr(argv[1]);
    serv_adr.sin_port = htons(atoi(argv[2]));
    sendto(sock, argv[3], strlen(argv[3]), 0, (struct sockaddr*)&serv_adr, sizeof(serv_adr));
    adr_sz = sizeof(from_adr);
    str_len = recvfrom(sock, message, sizeof(message) - 1, 0, (struct sockaddr*)&from_adr, &adr_sz);
    if (str_len == -1) { fputs("recvfrom() error\n", stderr); exit(1); }
    message[str_len] = 0;
    printf("Message from server: %s\n", message);
    fprintf(stderr, "received %d bytes from port %d\n", str_len, ntohs(from_adr.sin_port));
    close(sock);
    return 0;
}
`;

/** Writes the source only when it changed (so buildC's cache holds), then builds it. */
function build(name: string, source: string): string {
  const dir = `${ROOT}dist/c/src`;
  mkdirSync(dir, { recursive: true });
  const path = `${dir}/${name}.c`;
  if (!existsSync(path) || readFileSync(path, 'utf8') !== source) writeFileSync(path, source);
  return buildC(path, name);
}

describe('a C UDP client talks to userver', () => {
  const client = build('udp-peer-client', CLIENT_C);

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
  const server = build('udp-peer-server', SERVER_C);

  test('hello: uclient prints what hclient prints', async (t) => {
    const c = await startServer(server, [HOST, '0', 'hello', '1']);
    t.after(() => c.stop('SIGKILL'));
    const result = await runBin('uclient', [HOST, String(c.port)]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'Message from server: Hello World! \n');
    assert.deepEqual(await c.exited(), { code: 0, signal: null });
  });

  test('echo: the textbook echo server sends each line back', async (t) => {
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
