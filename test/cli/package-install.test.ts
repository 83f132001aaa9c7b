/**
 * The published package: `npm pack` gives a tarball that installs with npm and runs every program.
 * The tests run after `npm run build`, so the tarball is packed from that build (--ignore-scripts);
 * a plain `npm pack` builds first through the prepack script, which is checked here too.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, runCommand, startServer } from '../helpers/process.js';

const PROGRAMS = ['hserver', 'hclient', 'userver', 'uclient', 'hbench'] as const;
// Every file of deploy/ (systemd units, HAProxy and nginx configurations), as package paths.
const deployFiles = readdirSync(`${ROOT}deploy`, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile())
  .map((entry) => join(relative(ROOT, entry.parentPath), entry.name))
  .sort();
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
  version: string;
  scripts: Record<string, string>;
};

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
}

describe('the npm package', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'socket-steps-pack-'));
  let files: string[] = [];
  let tarball = '';

  test('npm pack builds first (prepack) and ships the programs, the library and the licence', () => {
    assert.match(pkg.scripts.prepack ?? '', /npm run build/);
    const [report] = JSON.parse(
      npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT),
    ) as Array<{ filename: string; files: Array<{ path: string }> }>;
    assert.ok(report !== undefined);
    tarball = join(dir, report.filename);
    files = report.files.map((f) => f.path);
    for (const needed of [
      'LICENSE',
      'README.md',
      'bin/preflight.cjs',
      'dist/src/index.js',
      'dist/src/index.d.ts',
    ]) {
      assert.ok(files.includes(needed), `${needed} is in the package`);
    }
    for (const program of PROGRAMS) {
      assert.ok(files.includes(`bin/${program}`), `bin/${program}`);
      assert.ok(files.includes(`dist/bin/${program}.cjs`), `dist/bin/${program}.cjs`);
    }
    assert.ok(deployFiles.includes('deploy/systemd/hserver.service'), deployFiles.join(' '));
    // The README's systemd steps copy the units from the installed package's deploy/.
    for (const file of deployFiles) assert.ok(files.includes(file), `${file} is in the package`);
    assert.equal(
      files.filter((f) => f.startsWith('dist/test/') || f.startsWith('test/')).length,
      0,
      'no tests',
    );
  });

  test('every source map points only at files the package holds', () => {
    const maps = files.filter((f) => f.endsWith('.map'));
    assert.ok(maps.length > 0);
    const shipped = new Set(files);
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(`${ROOT}${map}`, 'utf8')) as { sources: string[] };
      for (const source of sources) {
        const resolved = join(map, '..', source);
        assert.ok(shipped.has(resolved), `${map} points at ${resolved}, which the package lacks`);
      }
    }
  });

  test('it installs with npm install -g --prefix and every program runs', async (t) => {
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const prefix = join(dir, 'prefix');
    npm(['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], dir);
    const bin = (name: string) => join(prefix, 'bin', name);
    // What the README's systemd steps copy: byte for byte the repository's deploy/.
    const installed = execFileSync('npm', ['root', '-g', '--prefix', prefix], { encoding: 'utf8' }).trim();
    for (const file of deployFiles) {
      assert.deepEqual(
        readFileSync(join(installed, 'socket-steps', file)),
        readFileSync(`${ROOT}${file}`),
        `${file} installed`,
      );
    }
    for (const program of PROGRAMS) {
      const result = await runCommand(bin(program), ['--version']);
      assert.equal(result.stdout.toString(), `${program} ${pkg.version}\n`, result.stderr);
      assert.equal(result.code, 0);
    }
    const tcp = await startServer(bin('hserver'), ['--host', '127.0.0.1', '0']);
    t.after(() => tcp.stop());
    const hello = await runCommand(bin('hclient'), ['127.0.0.1', String(tcp.port)]);
    assert.equal(hello.stdout.toString(), 'Message from server: Hello World! \n');
    const udp = await startServer(bin('userver'), ['--host', '127.0.0.1', '0']);
    t.after(() => udp.stop());
    const datagram = await runCommand(bin('uclient'), ['127.0.0.1', String(udp.port)]);
    assert.equal(datagram.stdout.toString(), 'Message from server: Hello World! \n');
    const load = await runCommand(bin('hbench'), ['-c', '2', '-n', '20', '127.0.0.1', String(tcp.port)]);
    assert.match(load.stdout.toString(), /20 ok, 0 failed/);
    assert.equal(load.code, 0);
  });
});
