// npm run demo [-- --trace] [-- --lang ko]: the lecture's run on loopback. Starts hserver on a
// free port, runs hclient against it, stops the server, and shows each command as it goes.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';

createRequire(import.meta.url)('../bin/preflight.cjs')('demo');

const extra = process.argv.slice(2); // e.g. --trace, --lang ko
const server = spawn(process.execPath, ['bin/hserver', ...extra, '0'], {
  stdio: ['ignore', 'inherit', 'pipe'],
});
console.log(`$ bin/hserver ${[...extra, '0'].join(' ')} &        # port 0: the system picks a free port`);
let log = '';
const port = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('hserver did not start within 10 s')), 10_000);
  server.stderr.setEncoding('utf8').on('data', (chunk) => {
    process.stderr.write(chunk);
    log += chunk;
    const match = /listening on .*:(\d+)\n/.exec(log);
    if (match) {
      clearTimeout(timer);
      resolve(match[1]);
    }
  });
  server.once('exit', (code) => reject(new Error(`hserver exited with ${code}`)));
});
await new Promise((r) => setTimeout(r, 50)); // let the server's own lines come out first
console.log(`$ bin/hclient ${[...extra, '127.0.0.1', port].join(' ')}`);
const client = spawnSync(process.execPath, ['bin/hclient', ...extra, '127.0.0.1', port], {
  stdio: 'inherit',
});
await new Promise((r) => setTimeout(r, 50));
console.log(`$ kill -TERM ${server.pid}        # SIGTERM: stop accepting, finish, close (step 5)`);
server.kill('SIGTERM');
const [code] = await once(server, 'exit');
console.log(`hserver exited with ${code}, hclient with ${client.status}`);
process.exitCode = code === 0 && client.status === 0 ? 0 : 1;
