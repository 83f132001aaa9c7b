'use strict';
// The first thing every program runs, before anything that an older Node.js might not have:
// - SIGUSR1 no longer opens Node's debugger. By default it makes node listen on 127.0.0.1:9229
//   with no authentication, so that any local process could run code as the server's user. A
//   listener of our own takes the signal instead (servers use it to print their stats); it is
//   installed here, before the program's code loads, to leave the smallest window.
// - On a Node.js line older than the package supports: one line on stderr and exit 1, never a
//   stack trace.
// - V8's compile cache is turned on for the program's bundle (module.enableCompileCache), in a
//   directory of the user's own: a client's start-up is most of its run time, and compiling the
//   bundle is part of it. Never in the shared temp directory that Node.js uses by default, where
//   another local user could leave code for ours to load. NODE_DISABLE_COMPILE_CACHE=1 turns it
//   off, NODE_COMPILE_CACHE=DIR chooses another directory (both Node.js's own).
// CommonJS and plain syntax on purpose, so that any Node.js can read it.

process.on('SIGUSR1', function ignoreSigusr1() {});

var MINIMUM = [22, 12];

/** True when `version` ('v22.12.0') is at least the minimum. */
function supported(version) {
  var parts = /^v?(\d+)\.(\d+)/.exec(String(version));
  if (parts === null) return false;
  var major = Number(parts[1]);
  var minor = Number(parts[2]);
  return major > MINIMUM[0] || (major === MINIMUM[0] && minor >= MINIMUM[1]);
}

/** Exits 1 with `<program>: needs Node.js 22.12 or newer; this is vX.Y.Z` on an older Node.js. */
function checkNode(program) {
  if (supported(process.version)) {
    enableCompileCache();
    return;
  }
  process.stderr.write(
    `${program}: needs Node.js ${MINIMUM.join('.')} or newer; this is ${process.version}\n`,
  );
  process.exit(1);
}

/**
 * The directory for the compile cache: $XDG_CACHE_HOME/socket-steps/compile-cache, else
 * ~/.cache/socket-steps/compile-cache, made if missing (mode 0700; never the home itself).
 * Undefined unless it is a real directory (no symlink) owned by this user and closed to others,
 * in a socket-steps directory of this user's that others cannot write to; or when there is no
 * home or the directory cannot be made. The cache is only an optimization: any doubt means no
 * cache, silently.
 */
function privateCacheDirectory(env) {
  var fs = require('node:fs');
  var path = require('node:path');
  var base = env.XDG_CACHE_HOME;
  // What must exist already: the home, or the directory that holds $XDG_CACHE_HOME.
  var root;
  if (base && path.isAbsolute(base)) {
    root = path.dirname(base);
  } else {
    if (!env.HOME || !path.isAbsolute(env.HOME)) return undefined;
    root = env.HOME;
    base = path.join(env.HOME, '.cache');
  }
  var directory = path.join(base, 'socket-steps', 'compile-cache');
  var uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  var ours = (dir, closed) => {
    var stat = fs.lstatSync(dir);
    return stat.isDirectory() && stat.uid === uid && (stat.mode & closed) === 0;
  };
  try {
    makeDirectories(fs, path, directory, path.resolve(root));
    if (!ours(path.dirname(directory), 0o022) || !ours(directory, 0o077)) return undefined;
    return directory;
  } catch (_) {
    return undefined;
  }
}

/**
 * mkdir -p with mode 0700, up to `root`, which must exist. Not mkdirSync's { recursive: true }:
 * on Node 22 and 24 that loops forever where mkdir() says ENOENT under a parent that exists
 * (XDG_CACHE_HOME=/proc). Throws if it cannot.
 */
function makeDirectories(fs, path, directory, root) {
  var parent = path.dirname(directory);
  if (directory === root || parent === directory) {
    if (!fs.statSync(directory).isDirectory()) throw new Error(`not a directory: ${directory}`);
    return;
  }
  try {
    fs.mkdirSync(directory, { mode: 0o700 });
  } catch (error) {
    if (error.code === 'EEXIST') return;
    if (error.code !== 'ENOENT') throw error;
    makeDirectories(fs, path, parent, root);
    try {
      fs.mkdirSync(directory, { mode: 0o700 });
    } catch (again) {
      if (again.code !== 'EEXIST') throw again; // another process made it meanwhile
    }
  }
}

/** Turns the compile cache on as described above; true when it is on. */
function enableCompileCache(env) {
  env = env || process.env;
  var module = require('node:module');
  if (typeof module.enableCompileCache !== 'function' || env.NODE_DISABLE_COMPILE_CACHE) return false;
  // NODE_COMPILE_CACHE: Node.js has already turned it on where the user asked.
  if (env.NODE_COMPILE_CACHE) return module.getCompileCacheDir() !== undefined;
  var directory = privateCacheDirectory(env);
  if (directory === undefined) return false;
  var result = module.enableCompileCache(directory);
  return result.directory !== undefined;
}

module.exports = checkNode;
module.exports.supported = supported;
module.exports.privateCacheDirectory = privateCacheDirectory;
module.exports.MINIMUM = MINIMUM.join('.');

// `node bin/preflight.cjs 'npm test'`: the same check before an npm script.
if (require.main === module) checkNode(process.argv[2] || 'socket-steps');
