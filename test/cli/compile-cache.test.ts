/**
 * The programs' compile cache (bin/preflight.cjs): on in a directory of the user's own, never in
 * one that others could write to, and never in the way of the program when it cannot be had.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, runBin, testEnv } from '../helpers/process.js';

const preflight = createRequire(import.meta.url)(`${ROOT}bin/preflight.cjs`) as {
  privateCacheDirectory(env: NodeJS.ProcessEnv): string | undefined;
};

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'socket-steps-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('compile cache directory', () => {
  test('made under $XDG_CACHE_HOME, else ~/.cache, closed to others', (t) => {
    const base = tempDir(t);
    const xdg = preflight.privateCacheDirectory({ XDG_CACHE_HOME: join(base, 'xdg') });
    assert.equal(xdg, join(base, 'xdg', 'socket-steps', 'compile-cache'));
    assert.equal(statSync(xdg).mode & 0o777, 0o700);
    mkdirSync(join(base, 'home'));
    const home = preflight.privateCacheDirectory({ HOME: join(base, 'home') });
    assert.equal(home, join(base, 'home', '.cache', 'socket-steps', 'compile-cache'));
    // A home that does not exist is not made: no cache.
    assert.equal(preflight.privateCacheDirectory({ HOME: join(base, 'gone') }), undefined);
    assert.throws(() => statSync(join(base, 'gone')), /ENOENT/);
    // Nor is the directory above $XDG_CACHE_HOME.
    assert.equal(preflight.privateCacheDirectory({ XDG_CACHE_HOME: join(base, 'no', 'xdg') }), undefined);
    assert.throws(() => statSync(join(base, 'no')), /ENOENT/);
    // A relative XDG_CACHE_HOME is ignored, as the XDG specification says.
    assert.equal(
      preflight.privateCacheDirectory({ XDG_CACHE_HOME: 'relative', HOME: join(base, 'home') }),
      home,
    );
  });

  test('none when others could write to it, when it is a symlink, or when there is no home', (t) => {
    const base = tempDir(t);
    const open = join(base, 'open', 'socket-steps', 'compile-cache');
    mkdirSync(open, { recursive: true });
    chmodSync(open, 0o777);
    assert.equal(preflight.privateCacheDirectory({ XDG_CACHE_HOME: join(base, 'open') }), undefined);
    // A closed directory in a socket-steps directory that others can write to (and so replace it).
    const inOpen = join(base, 'parent', 'socket-steps', 'compile-cache');
    mkdirSync(inOpen, { recursive: true, mode: 0o700 });
    chmodSync(join(base, 'parent', 'socket-steps'), 0o777);
    assert.equal(preflight.privateCacheDirectory({ XDG_CACHE_HOME: join(base, 'parent') }), undefined);
    const real = join(base, 'real');
    mkdirSync(real, { mode: 0o700 });
    mkdirSync(join(base, 'link', 'socket-steps'), { recursive: true });
    symlinkSync(real, join(base, 'link', 'socket-steps', 'compile-cache'));
    assert.equal(preflight.privateCacheDirectory({ XDG_CACHE_HOME: join(base, 'link') }), undefined);
    assert.equal(preflight.privateCacheDirectory({}), undefined);
    assert.equal(preflight.privateCacheDirectory({ HOME: 'relative' }), undefined);
    // A file where the directory would be: no cache, no exception.
    assert.equal(preflight.privateCacheDirectory({ XDG_CACHE_HOME: '/dev/null' }), undefined);
    // Where mkdir() says ENOENT under a parent that exists: no cache, and no endless loop
    // (Node 22 and 24's mkdirSync({ recursive: true }) never returns there).
    assert.equal(preflight.privateCacheDirectory({ XDG_CACHE_HOME: '/proc' }), undefined);
  });

  test('none when a directory on the way could be changed by others; symlinks on the way resolved', (t) => {
    const base = tempDir(t);
    // Whoever can write a parent can swap the checked directory for one of their own later.
    const open = join(base, 'open');
    mkdirSync(join(open, 'socket-steps', 'compile-cache'), { recursive: true, mode: 0o700 });
    chmodSync(open, 0o777);
    assert.equal(preflight.privateCacheDirectory({ XDG_CACHE_HOME: open }), undefined);
    const fresh = join(base, 'fresh');
    mkdirSync(fresh, { mode: 0o777 });
    chmodSync(fresh, 0o777);
    assert.equal(preflight.privateCacheDirectory({ XDG_CACHE_HOME: fresh }), undefined);
    assert.equal(existsSync(join(fresh, 'socket-steps')), false, 'nothing made there');
    // Sticky, as /tmp: others cannot rename what is ours in it.
    const sticky = join(base, 'sticky');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    assert.equal(
      preflight.privateCacheDirectory({ XDG_CACHE_HOME: join(sticky, 'mine') }),
      join(sticky, 'mine', 'socket-steps', 'compile-cache'),
    );
    // A symlink on the way (~/.cache elsewhere): the result is where it leads, for Node.js to
    // follow no link that could change.
    const elsewhere = join(base, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, join(base, 'cache-link'));
    assert.equal(
      preflight.privateCacheDirectory({ XDG_CACHE_HOME: join(base, 'cache-link') }),
      join(elsewhere, 'socket-steps', 'compile-cache'),
    );
  });

  test("none in another user's directory, and nothing made there (root with a user's HOME)", {
    skip: process.getuid?.() !== 0 ? 'needs root, to give a directory to another user' : false,
  }, (t) => {
    const base = tempDir(t);
    const home = join(base, 'home');
    mkdirSync(join(home, '.cache'), { recursive: true, mode: 0o755 });
    chownSync(home, 65534, 65534);
    chownSync(join(home, '.cache'), 65534, 65534);
    assert.equal(preflight.privateCacheDirectory({ HOME: home }), undefined);
    assert.deepEqual(readdirSync(join(home, '.cache')), [], "no directory of root in the user's way");
  });

  test('a program fills it, and runs the same without it', async (t) => {
    const base = tempDir(t);
    const cached = await runBin('hclient', ['--version'], { env: testEnv({ XDG_CACHE_HOME: base }) });
    assert.equal(cached.code, 0, cached.stderr);
    const directory = join(base, 'socket-steps', 'compile-cache');
    // Node.js keeps one subdirectory per version and V8 flags, with one entry per compiled file.
    const entries = readdirSync(directory).flatMap((sub) => readdirSync(join(directory, sub)));
    assert.ok(entries.length > 0, 'the bundle was cached');
    const without = await runBin('hclient', ['--version'], {
      env: testEnv({ XDG_CACHE_HOME: '/dev/null', HOME: '/nonexistent' }),
    });
    const disabled = await runBin('hclient', ['--version'], {
      env: testEnv({ XDG_CACHE_HOME: join(base, 'off'), NODE_DISABLE_COMPILE_CACHE: '1' }),
    });
    for (const r of [without, disabled]) {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.deepEqual(r.stdout, cached.stdout);
    }
    assert.throws(() => statSync(join(base, 'off')), /ENOENT/, 'NODE_DISABLE_COMPILE_CACHE makes nothing');
  });
});
