// npm run demo [-- --trace] [-- --lang ko] [-- <more hserver options>]: the lecture's run on
// loopback. Starts hserver on a free port, runs hclient against it, stops the server, and shows
// each command as it goes. Every option goes to hserver; --trace and --lang go to hclient too.
//
// Both programs' output is relayed as it arrives (never after the client has finished), so that
// with --trace the lines come in the order the steps happened: the client's connect() and the
// server's accept(), then write(), read(), and the closes.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';

createRequire(import.meta.url)('../bin/preflight.cjs')('demo');

/** The TCP port process `pid` listens on, from /proc, or undefined (yet). */
function listeningPort(pid) {
  let inodes;
  try {
    inodes = new Set(
      readdirSync(`/proc/${pid}/fd`)
        .map((fd) => /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1])
        .filter(Boolean),
    );
  } catch {
    return undefined;
  }
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/); // sl local remote st ... inode
      if (f[3] === '0A' && inodes.has(f[9])) return Number.parseInt(f[1].split(':')[1], 16);
    }
  }
  return undefined;
}

const extra = process.argv.slice(2);
// What hclient understands of the demo's options: the trace and its language.
const clientExtra = [];
for (let i = 0; i < extra.length; i++) {
  if (extra[i] === '--trace' || extra[i]?.startsWith('--lang=')) clientExtra.push(extra[i]);
  else if (extra[i] === '--lang' && extra[i + 1] !== undefined) clientExtra.push(extra[i], extra[++i]);
}

// On Linux both programs write straight to this terminal, so that their lines appear in the order
// they were written; the server's port is read from /proc (the kernel's socket tables). Elsewhere
// the server's stderr is relayed to find its "listening on" line.
const linux = existsSync('/proc/net/tcp');
const server = spawn(process.execPath, ['bin/hserver', ...extra, '0'], {
  stdio: ['ignore', 'inherit', linux ? 'inherit' : 'pipe'],
});
const serverExited = once(server, 'exit');
console.log(`$ bin/hserver ${[...extra, '0'].join(' ')} &        # port 0: the system picks a free port`);
const port = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('hserver did not start within 10 s')), 10_000);
  server.once('exit', (code) => reject(new Error(`hserver exited with ${code}`)));
  const found = (value) => {
    clearTimeout(timer);
    resolve(String(value));
  };
  if (linux) {
    const poll = () => {
      const port = listeningPort(server.pid);
      if (port === undefined) setTimeout(poll, 10);
      else found(port);
    };
    poll();
  } else {
    let log = '';
    server.stderr.setEncoding('utf8').on('data', (chunk) => {
      process.stderr.write(chunk);
      log += chunk;
      const match = /listening on .*:(\d+)\n/.exec(log);
      if (match) found(match[1]);
    });
  }
});
// The server's "listening on" line comes out before the client starts.
await new Promise((r) => setTimeout(r, 50));
console.log(`$ bin/hclient ${[...clientExtra, '127.0.0.1', port].join(' ')}`);
const client = spawn(process.execPath, ['bin/hclient', ...clientExtra, '127.0.0.1', port], {
  stdio: 'inherit',
});
const [clientCode] = await once(client, 'close');
// The server's last lines of this client (its close) may still be on their way.
await new Promise((r) => setTimeout(r, 50));
// With --count the server has stopped by itself; otherwise SIGTERM stops it.
if (server.exitCode === null && server.signalCode === null) {
  console.log(`$ kill -TERM ${server.pid}        # SIGTERM: stop accepting, finish, close (step 5)`);
  server.kill('SIGTERM');
}
const [code] = await serverExited;
console.log(`hserver exited with ${code}, hclient with ${clientCode}`);
process.exitCode = code === 0 && clientCode === 0 ? 0 : 1;
