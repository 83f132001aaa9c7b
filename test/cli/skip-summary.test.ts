/**
 * What a test run says of the tests it skipped: a test that needs a system program this machine
 * lacks is skipped with the Debian package that provides it (test/helpers/tools.ts), the run's
 * last lines list each skip by reason (scripts/skip-summary.mjs), and with
 * SOCKET_STEPS_REQUIRE_TOOLS=1, as .ci/run sets it, the same test fails instead.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, runCommand } from '../helpers/process.js';

/** Runs a test file that needs a program that is nowhere, with the project's two reporters. */
async function runNeedingMissingTool(t: { after(fn: () => void): void }, env: NodeJS.ProcessEnv) {
  const dir = mkdtempSync(join(tmpdir(), 'socket-steps-skip-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tools = pathToFileURL(`${ROOT}dist/test/helpers/tools.js`).href;
  const file = join(dir, 'needs.test.mjs');
  writeFileSync(
    file,
    `import { test } from 'node:test';
import { needs } from '${tools}';
const nowhere = { name: 'nowhere-tool', paths: ['${dir}/none'], versionArgs: [], pkg: 'nowhere-pkg' };
test('uses the tool', needs(nowhere), () => {});
test('needs nothing', () => {});
`,
  );
  return runCommand(
    process.execPath,
    [
      '--test',
      '--test-reporter=spec',
      `--test-reporter=${ROOT}scripts/skip-summary.mjs`,
      '--test-reporter-destination=stdout',
      '--test-reporter-destination=stdout',
      file,
    ],
    // Without NODE_TEST_CONTEXT, which would make the inner run report to this one instead.
    { env: { ...process.env, NODE_TEST_CONTEXT: undefined, ...env } },
  );
}

test('a missing system program skips its test, and the last lines say why and which package', async (t) => {
  const result = await runNeedingMissingTool(t, { SOCKET_STEPS_REQUIRE_TOOLS: '' });
  const out = result.stdout.toString();
  assert.equal(result.code, 0, out);
  assert.match(out, /ℹ skipped 1\n/);
  assert.match(
    out,
    /\nskipped 1 test:\n {2}nowhere-tool not found: install Debian package nowhere-pkg \(\.ci\/run does\) \(1\):\n {4}- .*needs\.test\.mjs: uses the tool\n$/,
  );
});

test('with SOCKET_STEPS_REQUIRE_TOOLS=1 a missing system program fails the run', async (t) => {
  const result = await runNeedingMissingTool(t, { SOCKET_STEPS_REQUIRE_TOOLS: '1' });
  const out = result.stdout.toString();
  assert.equal(result.code, 1, out);
  assert.match(out, /nowhere-tool not found: install Debian package nowhere-pkg/);
  assert.doesNotMatch(out, /\nskipped /);
});
