/**
 * Docs that cannot lie (issue 21, item 3): every shell session shown in README.md and
 * docs/**\/*.md carries a marker (test/helpers/doc-examples.ts), and every `run` example is run
 * against the built programs and its output compared with what it shows.
 *
 * How an example runs: its foreground commands go, one after another, to one bash (so that
 * `exec 3<>/dev/tcp/...`, `$?` and the like carry over), with stdin from /dev/null and stderr
 * merged into stdout; a command ending in `&` is started by the test itself, its output collected
 * apart, and the next command waits for its `listening on` line; `$!` is the PID of the last one.
 * A command with typed lines (`typed at PROGRAM`) runs apart on a pseudo-terminal (util-linux
 * `script`): each line is typed once the output shown before it has come, and once all of it has
 * come, Ctrl-D ends the input of a program still reading it.
 * Each port the example shows is replaced everywhere in it by a free port; a port printed by a
 * server started on port 0 replaces the one shown for it. A background process is stopped by its
 * PID at the end (its output, when the example shows any, compared up to then: the lines shown
 * under a background command are all it prints during the example, in order); everything is
 * bounded by EXAMPLE_MS. An exit status is checked where the example shows one in a note, as
 * `(exit 1)` at the end of its line.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { describe, test } from 'node:test';
import {
  allExamples,
  type DocExample,
  extractExamples,
  linesMatch,
  mapPorts,
  normalise,
  shownPorts,
} from '../helpers/doc-examples.js';
import { ROOT, testEnv } from '../helpers/process.js';
import { needs, TOOLS, type Tool } from '../helpers/tools.js';

/** The most an example may take, load runs of a few seconds included. */
const EXAMPLE_MS = 30_000;

/** System programs the examples call, by the name they call them by. */
const EXAMPLE_TOOLS: Readonly<Record<string, Tool>> = {
  script: TOOLS.script,
  socat: TOOLS.socat,
  nc: {
    name: 'nc (OpenBSD netcat, for -N)',
    paths: ['/usr/bin/nc', '/bin/nc'],
    versionArgs: ['-h'],
    pkg: 'netcat-openbsd',
  },
  python3: {
    name: 'python3',
    paths: ['/usr/bin/python3', '/bin/python3'],
    versionArgs: ['--version'],
    pkg: 'python3-minimal',
  },
  ss: TOOLS.ss,
  openssl: TOOLS.openssl,
  ncat: TOOLS.ncat,
};

/** The system programs an example's commands call. */
function toolsOf(example: DocExample): Tool[] {
  const names = new Set(example.steps.flatMap((s) => s.command.split(/[\s|;()]+/)));
  if (example.steps.some((s) => s.typed !== undefined)) names.add('script');
  return Object.entries(EXAMPLE_TOOLS)
    .filter(([name]) => names.has(name))
    .map(([, tool]) => tool);
}

/** A port free for both TCP and UDP on every address right now. */
async function freePort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const tcp = createServer();
    tcp.listen(0, '0.0.0.0');
    await once(tcp, 'listening');
    const port = (tcp.address() as { port: number }).port;
    const udp = createSocket('udp4');
    const udpOk = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '0.0.0.0', () => resolve(true));
    });
    udp.close();
    tcp.close();
    await once(tcp, 'close');
    if (udpOk && !taken.has(port)) return port;
  }
  throw new Error('no free port found in 20 attempts');
}

/** Output collected from a process as text. */
class Output {
  text = '';
  private waiters: Array<() => void> = [];
  add(chunk: Buffer): void {
    this.text += chunk.toString('utf8');
    for (const w of this.waiters.splice(0)) w();
  }
  /** Resolves when `ready(text)` holds, rejects past `deadline`. */
  async until(ready: (text: string) => boolean, deadline: number, what: string): Promise<void> {
    while (!ready(this.text)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; so far: ${JSON.stringify(this.text)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
  lines(upTo = this.text.length): string[] {
    const lines = this.text.slice(0, upTo).split('\n');
    if (lines.at(-1) === '') lines.pop();
    while (lines.at(-1)?.trim() === '') lines.pop();
    return lines;
  }
}

interface Started {
  child: ChildProcess;
  output: Output;
  exited: boolean;
  /** The output's length when the test began to stop it: what it printed for the example. */
  stoppedAt?: number;
}

/** Waits for `child` to end, by SIGKILL to its process group past `ms`. */
async function ended(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const timer = setTimeout(() => {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }
  }, ms);
  await once(child, 'exit');
  clearTimeout(timer);
}

/** What bash prints after each command: a record separator, the exit status, a newline. */
const SENTINEL = new RegExp(`${String.fromCharCode(0x1e)}(\\d+)\n`);

/**
 * Runs `command` on a pseudo-terminal and types each of `typed` once the output shows what
 * `shown` has between the previous typed line and this one (a prompt, the server's answer).
 */
async function onTerminal(
  command: string,
  typed: readonly string[],
  shown: string,
  env: NodeJS.ProcessEnv,
  deadline: number,
): Promise<{ code: number | null; lines: string[] }> {
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const output = new Output();
  child.stdout.on('data', (c: Buffer) => output.add(c));
  child.stdin.on('error', () => {});
  let exited = false;
  const exit = once(child, 'exit').then(([code]) => {
    exited = true;
    output.add(Buffer.alloc(0));
    return code as number | null;
  });
  try {
    let shownAt = 0;
    let cursor = 0;
    for (const line of typed) {
      const at = shown.indexOf(line, shownAt);
      // What comes before the typed line, since the last one (less the echo's own line end).
      const before = shown.slice(shownAt, at === -1 ? shownAt : at).replace(/^\n/, '');
      shownAt = at === -1 ? shownAt : at + line.length;
      await output.until(
        (t) => exited || t.replaceAll('\r\n', '\n').indexOf(before, cursor) !== -1,
        deadline,
        `${JSON.stringify(before)} before typing ${JSON.stringify(line)}`,
      );
      const text = output.text.replaceAll('\r\n', '\n');
      cursor = text.indexOf(before, cursor) + before.length;
      child.stdin.write(`${line}\n`);
    }
    // The whole output shown has come and the program still reads: end its input, as one would
    // with Ctrl-D (nc, for one, ends only then).
    const wanted = shown.split('\n').length;
    await output.until(
      (t) => exited || t.split('\n').length > wanted,
      deadline,
      `$ ${command} to print its output`,
    );
    if (!exited) child.stdin.write('\x04');
    await output.until(() => exited, deadline, `$ ${command} to end`);
  } finally {
    if (!exited && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {}
    }
    child.stdin.end();
    await ended(child, 5_000);
  }
  const code = await exit;
  const lines = output.text.replaceAll('\r\n', '\n').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return { code, lines };
}

async function runExample(example: DocExample): Promise<void> {
  const deadline = Date.now() + EXAMPLE_MS;
  const ports = new Map<number, number>();
  const taken = new Set<number>();
  for (const port of shownPorts(example.steps)) {
    const free = await freePort(taken);
    taken.add(free);
    ports.set(port, free);
  }
  const own = (): Set<number> => new Set(ports.values());
  const env = testEnv({ PATH: `${ROOT}bin:${dirname(process.execPath)}:${process.env.PATH ?? ''}` });
  const shell = spawn('bash', ['--norc', '--noprofile'], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const shellOut = new Output();
  shell.stdout.on('data', (c: Buffer) => shellOut.add(c));
  shell.stderr.on('data', (c: Buffer) => shellOut.add(c));
  shell.stdin.on('error', () => {});
  shell.stdin.write('exec 2>&1\n');
  const started: Started[] = [];
  const failures: string[] = [];
  const compare = (where: string, shown: string[], printed: string[]): void => {
    const p = own();
    const want = shown.map((l) => normalise(mapPorts(l, ports), p, example.figuresVary));
    const got = printed.map((l) => normalise(l, p, example.figuresVary));
    if (!linesMatch(want, got)) {
      failures.push(`${where}\n  shown:\n    ${want.join('\n    ')}\n  printed:\n    ${got.join('\n    ')}`);
    }
  };
  try {
    for (const step of example.steps) {
      const last = started.at(-1);
      const command = mapPorts(step.command, ports).replaceAll('$!', String(last?.child.pid ?? ''));
      if (step.background) {
        const child = spawn('bash', ['-c', `exec ${command} 2>&1`], {
          cwd: ROOT,
          env,
          detached: true,
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        const entry: Started = { child, output: new Output(), exited: false };
        child.stdout?.on('data', (c: Buffer) => entry.output.add(c));
        child.on('exit', () => {
          entry.exited = true;
          entry.output.add(Buffer.alloc(0));
        });
        started.push(entry);
        await entry.output.until(
          (t) => entry.exited || /listening on \S+\n/.test(t),
          deadline,
          `$ ${command} &`,
        );
        // A server on port 0: the port it printed stands for the one the example shows.
        const printed = entry.output.lines();
        for (const shown of step.expected) {
          if (!/listening on|view on/.test(shown)) continue;
          const got = printed.find((l) => l.replace(/\d+/g, '') === shown.replace(/\d+/g, ''));
          const a = [...shown.matchAll(/:(\d+)/g)].map((m) => Number(m[1]));
          const b = [...(got ?? '').matchAll(/:(\d+)/g)].map((m) => Number(m[1]));
          a.forEach((n, k) => {
            const to = b[k];
            if (to !== undefined) ports.set(n, to);
          });
        }
        continue;
      }
      if (step.typed !== undefined) {
        const { code, lines } = await onTerminal(
          command,
          step.typed,
          mapPorts(step.expected.join('\n'), ports),
          env,
          deadline,
        );
        compare(`$ ${command} (on a terminal)`, step.expected, lines);
        if (step.exitCode !== undefined && code !== step.exitCode) {
          failures.push(`$ ${command}: exit status ${code}, the example shows ${step.exitCode}`);
        }
        continue;
      }
      const before = shellOut.text.length;
      shell.stdin.write(`{ ${command}\n} </dev/null\n__s=$?; printf '\\036%s\\n' "$__s"; (exit $__s)\n`);
      await shellOut.until((t) => SENTINEL.test(t.slice(before)), deadline, `$ ${command}`);
      const text = shellOut.text.slice(before);
      const found = SENTINEL.exec(text);
      const end = found?.index ?? text.length;
      const code = Number(found?.[1]);
      shellOut.text = shellOut.text.slice(0, before); // the sentinel is not output
      const lines = text.slice(0, end).split('\n');
      if (lines.at(-1) === '') lines.pop();
      compare(`$ ${command}`, step.expected, lines);
      if (step.exitCode !== undefined && code !== step.exitCode) {
        failures.push(`$ ${command}: exit status ${code}, the example shows ${step.exitCode}`);
      }
    }
    // Each background process: what the example shows of it, once it has printed that much.
    for (const [k, entry] of started.entries()) {
      const step = example.steps.filter((s) => s.background)[k];
      // A background command shown without output (a server the reader just starts): not compared.
      if (step === undefined || step.expected.length === 0) continue;
      const wanted = step.expected.filter((l) => l.trim() !== '...').length;
      await entry.output
        .until((t) => entry.exited || t.split('\n').length - 1 >= wanted, deadline, 'a background output')
        .catch(() => {});
      entry.stoppedAt = entry.output.text.length;
      compare(
        `$ ${mapPorts(step.command, ports)} & (its output)`,
        step.expected,
        entry.output.lines(entry.stoppedAt),
      );
    }
  } finally {
    shell.stdin.end();
    for (const entry of started) {
      if (!entry.exited && entry.child.pid !== undefined) {
        try {
          process.kill(entry.child.pid, 'SIGTERM');
        } catch {}
      }
    }
    await Promise.all([...started.map((e) => ended(e.child, 5_000)), ended(shell, 5_000)]);
  }
  assert.deepEqual(failures, [], `${example.file}:${example.line}\n${failures.join('\n')}`);
}

describe('the example checker itself', () => {
  test('a shell session without a marker, a marker without one, and a malformed marker are reported', () => {
    const text = [
      '```',
      '$ hserver 9190 &',
      '```',
      '',
      '<!-- example: run -->',
      '```sh',
      'npm test',
      '```',
      '',
      '<!-- example: sometimes -->',
      '```',
      '$ hclient 127.0.0.1 9190',
      '```',
      '',
      '  <!-- example: not-run: needs a real systemd -->',
      '  ```',
      '  $ systemctl start x',
      '  ```',
    ].join('\n');
    const { examples, unmarked } = extractExamples('x.md', text);
    assert.deepEqual(
      unmarked.map((u) => [u.line, u.problem.split(' ').slice(0, 3).join(' ')]),
      [
        [1, 'a shell session'],
        [6, 'an example marker'],
        [11, 'a malformed marker'],
      ],
    );
    assert.deepEqual(
      examples.map((e) => [e.line, e.mode, e.reason, e.steps[0]?.command]),
      [[16, 'not-run', 'needs a real systemd', 'systemctl start x']],
    );
  });

  test('commands, background commands, comments, output and exit notes are parsed', () => {
    const { examples } = extractExamples(
      'x.md',
      [
        '<!-- example: run -->',
        '```',
        '$ hserver 9190 &        # a comment',
        'hserver: listening on 0.0.0.0:9190',
        '',
        '$ hserver 65536',
        "bind() error: invalid port '65536'             (exit 1)",
        '```',
      ].join('\n'),
    );
    assert.deepEqual(examples[0]?.steps, [
      { command: 'hserver 9190', background: true, expected: ['hserver: listening on 0.0.0.0:9190'] },
      {
        command: 'hserver 65536',
        background: false,
        expected: ["bind() error: invalid port '65536'"],
        exitCode: 1,
      },
    ]);
    assert.deepEqual(shownPorts(examples[0]?.steps ?? []), [9190]);
  });

  test("client ports, pids and column widths are masked; the example's own ports are not", () => {
    const own = new Set([41000]);
    assert.equal(
      normalise('accept(): #1 connection from 127.0.0.1:53422 on [::1]:41000', own, false),
      'accept(): #1 connection from 127.0.0.1:<port> on [::1]:41000',
    );
    // --hex's headings close their bracket right after the port; an IPv6 literal's last group is no port.
    assert.equal(
      normalise('[#1 server → 127.0.0.1:53422] wrote 13 bytes, [fe80::1:2]:41000', own, false),
      '[#1 server → 127.0.0.1:<port>] wrote 13 bytes, [fe80::1:2]:41000',
    );
    assert.equal(
      normalise('LISTEN 0      4096   users:(("x",pid=7452,fd=22))  ', own, false),
      'LISTEN 0 4096 users:(("<process>",pid=<pid>,fd=<fd>))',
    );
    assert.equal(
      normalise('rate 6746 connections/s, p50 2.02 ms', own, true),
      'rate <n> connections/s, p<n> <n> ms',
    );
    assert.notEqual(
      normalise('listening on 0.0.0.0:41000', own, false),
      normalise('listening on 0.0.0.0:41001', own, false),
    );
  });

  test('`...` stands for any lines, or within a line for any text', () => {
    assert.ok(linesMatch(['...', 'c'], ['a', 'b', 'c']));
    assert.ok(linesMatch(['...', 'a'], ['a']));
    assert.ok(linesMatch(['{"a":1,...'], ['{"a":1,"b":2}']));
    assert.ok(linesMatch(['{"a":1,...}'], ['{"a":1,"b":2}']));
    assert.ok(!linesMatch(['{"a":1,...}'], ['{"a":2,"b":2}']));
    assert.ok(!linesMatch(['a.c'], ['abc']));
    assert.ok(!linesMatch(['a', 'b'], ['a']));
    assert.ok(!linesMatch(['a'], ['a', 'b']));
    assert.ok(!linesMatch(['...', 'c'], ['a', 'b']));
  });
});

const { examples, unmarked } = allExamples(ROOT);

test('every shell session shown in README.md and docs/ carries an example marker', () => {
  assert.deepEqual(
    unmarked.map((u) => `${u.file}:${u.line}: ${u.problem}`),
    [],
  );
  assert.ok(examples.length > 0, 'no examples found: is ROOT right?');
});

test('every not-run example says why', () => {
  for (const e of examples.filter((x) => x.mode === 'not-run')) {
    assert.ok((e.reason ?? '').length >= 10, `${e.file}:${e.line}: a not-run marker needs a reason`);
  }
});

describe('the shown examples print what they show', () => {
  for (const example of examples.filter((e) => e.mode === 'run')) {
    test(
      `${example.file}:${example.line} ${example.steps[0]?.command ?? ''}`,
      { timeout: EXAMPLE_MS + 15_000, ...needs(...toolsOf(example)) },
      () => runExample(example),
    );
  }
});
