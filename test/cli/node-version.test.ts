/**
 * The supported Node.js lines: every program refuses an older one in one line, exit 1. An older
 * Node.js is stood in for by preloading a module that sets `process.version`, so that the test
 * runs on any machine; .ci/run also runs a program on the machine's own Node.js when it is old.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { binPath, ROOT, runCommand } from '../helpers/process.js';

const checkNode = createRequire(import.meta.url)(`${ROOT}bin/preflight.cjs`) as {
  supported(version: string): boolean;
  MINIMUM: string;
};
const PROGRAMS = ['hserver', 'hclient', 'userver', 'uclient', 'hbench'] as const;

describe('supported Node.js lines', () => {
  test('22.12 and newer are supported; older lines are not', () => {
    for (const version of ['v22.12.0', 'v22.23.5', 'v24.0.0', 'v24.22.3', 'v26.12.1', 'v30.1.0']) {
      assert.equal(checkNode.supported(version), true, version);
    }
    for (const version of ['v22.11.0', 'v22.0.0', 'v20.20.2', 'v18.20.8', 'v8.0.0', 'nonsense']) {
      assert.equal(checkNode.supported(version), false, version);
    }
  });

  test('package.json engines says what the programs check', () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { engines: { node: string } };
    assert.equal(pkg.engines.node, `>=${checkNode.MINIMUM}`);
  });

  test('on an older Node.js every program says so in one line and exits 1', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'socket-steps-old-node-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const preload = join(dir, 'old-node.cjs');
    writeFileSync(preload, "Object.defineProperty(process, 'version', { value: 'v20.20.2' });\n");
    assert.equal(checkNode.supported(process.version), true, 'this test runs on a supported line');
    for (const program of PROGRAMS) {
      const result = await runCommand(process.execPath, ['--require', preload, binPath(program), '0']);
      assert.equal(result.stderr, `${program}: needs Node.js 22.12 or newer; this is v20.20.2\n`);
      assert.equal(result.stdout.length, 0);
      assert.equal(result.code, 1);
    }
  });
});
