'use strict';
// The first thing every program runs, before anything that an older Node.js might not have:
// - SIGUSR1 no longer opens Node's debugger. By default it makes node listen on 127.0.0.1:9229
//   with no authentication, so that any local process could run code as the server's user. A
//   listener of our own takes the signal instead (servers use it to print their stats); it is
//   installed here, before the program's code loads, to leave the smallest window.
// - On a Node.js line older than the package supports: one line on stderr and exit 1, never a
//   stack trace.
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
  if (supported(process.version)) return;
  process.stderr.write(
    `${program}: needs Node.js ${MINIMUM.join('.')} or newer; this is ${process.version}\n`,
  );
  process.exit(1);
}

module.exports = checkNode;
module.exports.supported = supported;
module.exports.MINIMUM = MINIMUM.join('.');

// `node bin/preflight.cjs 'npm test'`: the same check before an npm script.
if (require.main === module) checkNode(process.argv[2] || 'socket-steps');
