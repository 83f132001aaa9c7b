/**
 * The interop matrix with C hello programs built with gcc: the project's own (c/) always, and the
 * textbook's own too when SOCKET_STEPS_SEED_DIR names their folder. For each set: C client vs our
 * server, our client vs C server, ours vs ours, C vs C; stdout compared byte for byte, and the
 * servers' raw bytes compared too.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import {
  type HelloPrograms,
  projectHelloPrograms,
  SEED_DIR_VARIABLE,
  textbookHelloPrograms,
} from '../helpers/c-programs.js';
import { binPath, listeningPort, type RunResult, runCommand, startServer } from '../helpers/process.js';

/** Starts a C server on a free port (it serves one client, then exits). */
async function startCServer(cServer: string): Promise<{ port: number; exited: Promise<unknown> }> {
  const child = spawn(cServer, ['0'], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  exited.finally(() => clearTimeout(timer));
  const port = await listeningPort(child.pid as number);
  return { port, exited };
}

/** Starts our server for exactly one client, like the C program. */
async function startOurServer(args: string[] = []): Promise<{ port: number; exited: Promise<unknown> }> {
  const server = await startServer('hserver', ['--count', '1', ...args, '0']);
  return { port: server.port, exited: server.exited() };
}

async function rawBytes(port: number): Promise<Buffer> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'end');
  socket.destroy();
  return Buffer.concat(chunks);
}

type Started = { port: number; exited: Promise<unknown> };

/** The interop matrix against one set of C programs. */
function interopMatrix({ label, server: cServer, client: cClient }: HelloPrograms): void {
  const clients: Record<string, (port: number) => Promise<RunResult>> = {
    'C client': (port) => runCommand(cClient, ['127.0.0.1', String(port)]),
    'our client': (port) => runCommand(binPath('hclient'), ['127.0.0.1', String(port)]),
  };
  const servers: Record<string, () => Promise<Started>> = {
    'C server': () => startCServer(cServer),
    'our server': () => startOurServer(),
  };

  describe(`interop matrix with ${label}`, () => {
    const outputs = new Map<string, RunResult>();
    for (const [clientName, runClient] of Object.entries(clients)) {
      for (const [serverName, start] of Object.entries(servers)) {
        test(`${clientName} vs ${serverName}`, async () => {
          const server = await start();
          const result = await runClient(server.port);
          await server.exited;
          assert.equal(result.code, 0, result.stderr);
          assert.equal(result.stdout.toString('latin1'), 'Message from server: Hello World! \n');
          outputs.set(`${clientName}/${serverName}`, result);
        });
      }
    }
    test('all four stdouts are byte-identical', () => {
      const all = [...outputs.values()].map((r) => r.stdout.toString('hex'));
      assert.equal(all.length, 4);
      assert.equal(new Set(all).size, 1);
    });

    test('our server sends exactly the bytes the C server sends', async () => {
      const c = await startCServer(cServer);
      const cBytes = await rawBytes(c.port);
      await c.exited;
      const ours = await startOurServer();
      const ourBytes = await rawBytes(ours.port);
      await ours.exited;
      assert.deepEqual(ourBytes, cBytes);
      assert.deepEqual(ourBytes, Buffer.from('Hello World!\0', 'latin1'));
    });

    test('against a server that sends the text without a NUL and closes, both clients print the same', async (t) => {
      const sockets = new Set<Socket>();
      const server = createServer((s) => {
        sockets.add(s);
        s.on('error', () => {});
        s.end('Hello World!');
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      t.after(() => {
        for (const s of sockets) s.destroy();
        return new Promise((r) => server.close(r));
      });
      const { port } = server.address() as AddressInfo;
      const c = await runCommand(cClient, ['127.0.0.1', String(port)]);
      const ours = await runCommand(binPath('hclient'), ['127.0.0.1', String(port)]);
      assert.equal(ours.code, 0);
      assert.equal(ours.stdout.toString('latin1'), 'Message from server: Hello World! \n');
      assert.deepEqual(ours.stdout, c.stdout);
    });

    test('C client against our server with a custom message', async () => {
      const ours = await startOurServer(['--message', 'Hi, Bob. I am Jane']);
      const result = await runCommand(cClient, ['127.0.0.1', String(ours.port)]);
      await ours.exited;
      assert.equal(result.stdout.toString(), 'Message from server: Hi, Bob. I am Jane \n');
    });

    test('the usage line and exit status of a wrong argument count match', async () => {
      for (const [c, ours] of [
        [cServer, binPath('hserver')],
        [cClient, binPath('hclient')],
      ] as const) {
        const fromC = await runCommand(c, []);
        const fromOurs = await runCommand(ours, []);
        assert.equal(fromC.code, 1);
        assert.equal(fromOurs.code, 1);
        // The usage line names the program: compare it with the program name taken out.
        const strip = (r: RunResult) => r.stdout.toString().replace(/^(Usage : )\S+/, '$1PROGRAM');
        assert.equal(strip(fromOurs), strip(fromC));
      }
    });
  });
}

interopMatrix(projectHelloPrograms());
let textbook: HelloPrograms | undefined;
let textbookProblem: unknown;
try {
  textbook = textbookHelloPrograms();
} catch (error) {
  textbookProblem = error;
}
if (textbookProblem !== undefined) {
  test(`the textbook's own programs in ${SEED_DIR_VARIABLE}=${process.env[SEED_DIR_VARIABLE]}`, () => {
    assert.fail(
      `${SEED_DIR_VARIABLE} names a folder without the textbook's programs: ${String(textbookProblem)}`,
    );
  });
} else if (textbook !== undefined) {
  interopMatrix(textbook);
} else {
  test(`the textbook's own programs: ${SEED_DIR_VARIABLE} is not set, so the project's C programs were used`, (t) => {
    t.diagnostic(
      `set ${SEED_DIR_VARIABLE} to the folder of hello_server.c and hello_client.c to test against them too`,
    );
    assert.equal(process.env[SEED_DIR_VARIABLE] ?? '', '');
  });
}
