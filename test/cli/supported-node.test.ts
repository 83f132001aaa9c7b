/**
 * scripts/supported-node.cjs: the npm scripts on a machine whose own Node.js is too old run on a
 * supported one from the cache (fetched from the npm registry when the cache has none), after one
 * line that says so; on a supported Node.js they run as they are. An older Node.js is stood in for
 * by preloading a module that sets `process.version`; the cache holds a stand-in release of a
 * line no registry has (99), so that nothing is fetched.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, runCommand } from '../helpers/process.js';

const SCRIPT = `${ROOT}scripts/supported-node.cjs`;

/** A temp dir with a preload that makes node look like v20.20.2 and a cache of stand-in releases. */
function setUp(t: { after(fn: () => void): void }, releases: readonly string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'socket-steps-supported-node-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const preload = join(dir, 'old-node.cjs');
  writeFileSync(preload, "Object.defineProperty(process, 'version', { value: 'v20.20.2' });\n");
  const cache = join(dir, 'cache');
  for (const version of releases) {
    mkdirSync(join(cache, version, 'bin'), { recursive: true });
    const node = join(cache, version, 'bin', 'node');
    writeFileSync(node, `#!/bin/sh\necho v${version}\n`);
    chmodSync(node, 0o755);
  }
  // A half-fetched release is never used.
  mkdirSync(join(cache, '99.20.0.partial', 'bin'), { recursive: true });
  return { preload, cache };
}

test('on an old Node.js, a script runs on the newest cached release of the line, after one line', async (t) => {
  const { preload, cache } = setUp(t, ['99.2.0', '99.10.0', '98.30.0']);
  const env = { ...process.env, SOCKET_STEPS_NODE_CACHE: cache, SOCKET_STEPS_NODE_LINE: '99' };
  const result = await runCommand(
    process.execPath,
    ['--require', preload, SCRIPT, 'run', 'node --version && echo', 'passed', 'on'],
    { env },
  );
  assert.equal(result.stdout.toString(), 'v99.10.0\npassed on\n');
  assert.equal(
    result.stderr,
    `socket-steps: this machine's Node.js is v20.20.2, older than 22.12; running on Node.js v99.10.0 from ${cache}/99.10.0/bin\n`,
  );
  assert.equal(result.code, 0);
});

test('on a supported Node.js, a script runs as it is, with its exit code', async () => {
  const result = await runCommand(process.execPath, [SCRIPT, 'run', 'node --version; exit 3']);
  assert.equal(result.stdout.toString(), `${process.version}\n`);
  assert.equal(result.stderr, '');
  assert.equal(result.code, 3);
});

test('on an old Node.js with no supported one to be had, one line and exit 1', async (t) => {
  const { preload, cache } = setUp(t, []);
  // npm on PATH fails at once: the registry cannot be asked.
  const bin = join(cache, '..', 'no-npm');
  mkdirSync(bin);
  writeFileSync(join(bin, 'npm'), '#!/bin/sh\nexit 1\n');
  chmodSync(join(bin, 'npm'), 0o755);
  const env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    SOCKET_STEPS_NODE_CACHE: cache,
    SOCKET_STEPS_NODE_LINE: '99',
  };
  const result = await runCommand(process.execPath, ['--require', preload, SCRIPT, 'run', 'echo never'], {
    env,
  });
  assert.equal(result.stdout.toString(), '');
  assert.equal(
    result.stderr,
    `socket-steps: needs Node.js 22.12 or newer; this machine has v20.20.2, and no Node.js 99 in ${cache} and none could be fetched from the npm registry (node-${process.platform}-${process.arch})\n`,
  );
  assert.equal(result.code, 1);
});

test('bin prints the directory of the running Node.js when it is of the line asked for', async () => {
  const major = process.versions.node.split('.')[0] ?? '';
  const result = await runCommand(process.execPath, [SCRIPT, 'bin', major]);
  assert.equal(result.stdout.toString(), `${process.execPath.replace(/\/node$/, '')}\n`);
  assert.equal(result.code, 0);
});
