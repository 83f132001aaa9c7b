/**
 * TLS with real peers: openssl s_client, ncat --ssl and socat's OPENSSL: address as clients of
 * hserver --tls (verifying the certificate it made and wrote with --cert-out); openssl s_server
 * and socat's OPENSSL-LISTEN: as servers for hclient --tls.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runBin, runCommand, startServer } from '../helpers/process.js';
import { certDir, startPeerServer } from '../helpers/tls.js';
import { needs, TOOLS, toolPath } from '../helpers/tools.js';

const certs = certDir();
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
process.on('exit', () => certs.remove());

async function tlsServer(args: string[], name: string) {
  const certOut = `${certs.dir}/${name}-out.pem`;
  const server = await startServer('hserver', [
    '--tls',
    '--cert-out',
    certOut,
    '--host',
    '127.0.0.1',
    ...args,
    '0',
  ]);
  const fingerprint = /SHA-256 fingerprint ([0-9A-F:]{95})\n/.exec(server.stderr())?.[1];
  assert.ok(fingerprint, server.stderr());
  return { server, certOut, fingerprint };
}

describe('peers as clients of hserver --tls', () => {
  test(
    'openssl s_client verifies the made certificate and reads the hello',
    needs(TOOLS.openssl),
    async (t) => {
      const { server, certOut, fingerprint } = await tlsServer(['--count', '1'], 's-client');
      t.after(() => server.stop());
      const openssl = toolPath(TOOLS.openssl);
      const result = await runCommand(openssl, [
        's_client',
        '-connect',
        `127.0.0.1:${server.port}`,
        '-servername',
        'localhost',
        '-CAfile',
        certOut,
        '-verify_return_error',
        '-verify_hostname',
        'localhost',
        // Stay until the server closes: the hello comes after the handshake, and stdin is empty.
        '-ign_eof',
      ]);
      const out = result.stdout.toString('latin1');
      // Node.js 22 ends a TLS connection without close_notify (24 sends it), and s_client calls
      // that a truncation: the hello has come all the same.
      if (NODE_MAJOR >= 24) assert.equal(result.code, 0, result.stderr);
      else assert.match(result.stderr, /unexpected eof while reading/);
      assert.match(out, /Hello World!\0/);
      assert.match(out, /Verify return code: 0 \(ok\)/);
      assert.match(out, /Protocol *: TLSv1\.3/);
      const printed = await runCommand(openssl, [
        'x509',
        '-in',
        certOut,
        '-noout',
        '-fingerprint',
        '-sha256',
      ]);
      assert.equal(printed.stdout.toString(), `sha256 Fingerprint=${fingerprint}\n`);
      assert.equal((await server.exited()).code, 0);
    },
  );

  test('ncat --ssl verifies and talks to the echo service', needs(TOOLS.ncat), async (t) => {
    const { server, certOut } = await tlsServer(['--service', 'echo'], 'ncat');
    t.after(() => server.stop());
    const result = await runCommand(
      toolPath(TOOLS.ncat),
      ['--ssl', '--ssl-verify', '--ssl-trustfile', certOut, 'localhost', String(server.port)],
      { input: 'over TLS\nand back\n' },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'over TLS\nand back\n');
  });

  test("socat's OPENSSL: address verifies and talks to the echo service", needs(TOOLS.socat), async (t) => {
    const { server, certOut } = await tlsServer(['--service', 'echo'], 'socat');
    t.after(() => server.stop());
    const result = await runCommand(
      toolPath(TOOLS.socat),
      ['-', `OPENSSL:localhost:${server.port},cafile=${certOut},verify=1`],
      { input: 'socat\n' },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'socat\n');
  });

  test(
    'a peer that does not trust the certificate is refused by itself, and the server says so',
    needs(TOOLS.openssl),
    async (t) => {
      const { server } = await tlsServer([], 'untrusted');
      t.after(() => server.stop());
      const result = await runCommand(toolPath(TOOLS.openssl), [
        's_client',
        '-connect',
        `127.0.0.1:${server.port}`,
        '-verify_return_error',
        '-no_ign_eof',
      ]);
      assert.notEqual(result.code, 0);
      assert.match(result.stdout.toString() + result.stderr, /self[- ]signed certificate/);
    },
  );
});

describe('peers as servers for hclient --tls', () => {
  test('openssl s_server -rev: the echo client, verified with --ca', needs(TOOLS.openssl), async (t) => {
    const files = certs.make('s-server');
    const peer = await startPeerServer(toolPath(TOOLS.openssl), [
      's_server',
      '-rev',
      '-naccept',
      '1',
      '-cert',
      files.cert,
      '-key',
      files.key,
      '-accept',
      '127.0.0.1:0',
    ]);
    t.after(() => peer.stop());
    // -rev sends each line back reversed: a palindrome comes back as it went.
    const result = await runBin(
      'hclient',
      ['--tls', '--ca', files.cert, '--service', 'echo', '--trace', 'localhost', String(peer.port)],
      { input: 'level\n' },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'Message from server: level\n');
    assert.match(
      result.stderr,
      /\[client\] 2 TLS handshake: TLSv1\.3, TLS_[A-Z0-9_]+, SNI localhost; certificate verified: localhost, issued by CN=localhost \(--ca\)\n/,
    );
  });

  test(
    'socat OPENSSL-LISTEN: the hello client, and --insecure names the fingerprint',
    needs(TOOLS.socat),
    async (t) => {
      const files = certs.make('socat-listen');
      const peer = await startPeerServer(toolPath(TOOLS.socat), [
        `OPENSSL-LISTEN:0,bind=127.0.0.1,cert=${files.cert},key=${files.key},verify=0,fork`,
        // socat's address syntax cuts at spaces and takes "!" for itself: a message without either,
        // ended by the close (the hello client reads to a NUL or the end).
        'SYSTEM:printf Hello.from.socat',
      ]);
      t.after(() => peer.stop());
      const verified = await runBin('hclient', ['--tls', '--ca', files.cert, '127.0.0.1', String(peer.port)]);
      assert.equal(verified.code, 0, verified.stderr);
      assert.equal(verified.stdout.toString(), 'Message from server: Hello.from.socat \n');
      assert.equal(verified.stderr, '');
      const insecure = await runBin('hclient', ['--tls', '--insecure', '127.0.0.1', String(peer.port)]);
      assert.equal(insecure.code, 0, insecure.stderr);
      assert.equal(
        insecure.stderr,
        `hclient: TLS not verified (--insecure): accepted the certificate with SHA-256 fingerprint ${files.fingerprint}\n`,
      );
      const refused = await runBin('hclient', ['--tls', '127.0.0.1', String(peer.port)]);
      assert.equal(refused.code, 1);
      assert.equal(
        refused.stderr,
        `connect() error! TLS handshake with 127.0.0.1:${peer.port} failed: unknown issuer: the server's certificate (CN=localhost) is self-signed and not trusted (DEPTH_ZERO_SELF_SIGNED_CERT) (trust it with --ca FILE, or skip the check with --insecure)\n`,
      );
    },
  );
});
