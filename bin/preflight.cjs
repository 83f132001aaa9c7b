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
 * ~/.cache/socket-steps/compile-cache, made if missing (mode 0700; never the home itself, nor the
 * directory that holds $XDG_CACHE_HOME). Undefined unless it is a real directory owned by this
 * user and closed to others, and no one else can change which directory its path leads to: every
 * directory on the way, symlinks resolved, is this user's or root's and writable by no one else
 * (or sticky, as /tmp). Checking the last directory alone leaves the way to it open: whoever can
 * write a parent can swap the checked directory for one of their own between the check and
 * Node.js's reads of the cache. Returns the path with symlinks resolved, so that Node.js follows
 * none. Undefined too when there is no home or the directory cannot be made: the cache is only
 * an optimization, so any doubt means no cache, silently.
 */
function privateCacheDirectory(env) {
  var fs = require('node:fs');
  var path = require('node:path');
  var base = env.XDG_CACHE_HOME;
  // What must exist already: the home, or the directory that holds $XDG_CACHE_HOME.
  var root;
  if (base && path.isAbsolute(base)) {
    base = path.resolve(base);
    root = path.dirname(base);
  } else {
    if (!env.HOME || !path.isAbsolute(env.HOME)) return undefined;
    root = path.resolve(env.HOME);
    base = path.join(root, '.cache');
  }
  var directory = path.join(base, 'socket-steps', 'compile-cache');
  var uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  var existing = directory;
  var realExisting;
  var real;
  var stat;
  try {
    while (!fs.existsSync(existing)) {
      if (existing === root) return undefined;
      existing = path.dirname(existing);
    }
    // Before making anything: a way that others control (a home that is not ours, as under sudo
    // with the user's HOME) gets no directories of ours, which would then be in its owner's way.
    realExisting = fs.realpathSync(existing);
    if (!safeWay(fs, path, realExisting, uid)) return undefined;
    makeDirectories(fs, path, path.join(realExisting, path.relative(existing, directory)), realExisting);
    // The directory itself is no symlink, whatever the way to it is.
    if (!fs.lstatSync(directory).isDirectory()) return undefined;
    real = fs.realpathSync(directory);
    if (!safeWay(fs, path, real, uid)) return undefined;
    stat = fs.lstatSync(real);
    if (stat.uid !== uid || (stat.mode & 0o077) !== 0) return undefined;
    return real;
  } catch (_) {
    return undefined;
  }
}

/**
 * Makes each directory from below `existing` (which exists) down to `directory`, mode 0700, one
 * mkdir() each. Not mkdirSync's { recursive: true }: on Node 22 and 24 that loops forever where
 * mkdir() says ENOENT under a parent that exists (XDG_CACHE_HOME=/proc). Throws if it cannot.
 */
function makeDirectories(fs, path, directory, existing) {
  var dir = existing;
  var parts = path.relative(existing, directory).split(path.sep);
  var i;
  for (i = 0; i < parts.length; i++) {
    dir = path.join(dir, parts[i]);
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      if (error.code !== 'EEXIST') throw error; // EEXIST: another process made it meanwhile
    }
  }
}

/**
 * True when `real` (a path without symlinks) and each directory above it is a directory of this
 * user's or root's that no one else can write to, but for sticky ones (where others cannot
 * rename or remove what is ours).
 */
function safeWay(fs, path, real, uid) {
  var dir;
  var stat;
  for (dir = real; ; dir = path.dirname(dir)) {
    stat = fs.lstatSync(dir);
    if (!stat.isDirectory() || (stat.uid !== uid && stat.uid !== 0)) return false;
    if ((stat.mode & 0o022) !== 0 && (stat.mode & 0o1000) === 0) return false;
    if (path.dirname(dir) === dir) return true;
  }
}

/** Turns the compile cache on as described above; true when it is on. */
function enableCompileCache(env) {
  env = env || process.env;
  var module = require('node:module');
  if (typeof module.enableCompileCache !== 'function' || env.NODE_DISABLE_COMPILE_CACHE !== undefined) {
    return false;
  }
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
