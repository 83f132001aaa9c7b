// npm run view [-- <more hserver options>]: the visual demo. Starts a hello server on 127.0.0.1
// with the live view of the lecture's diagrams (both on free ports), prints where to open the page
// and the hclient command to run in another terminal, and runs until Ctrl-C. Every option goes to
// hserver (`-- --service greet`, `-- --lang ko`, `-- --view 8080`).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

createRequire(import.meta.url)('../bin/preflight.cjs')('view');

const extra = process.argv.slice(2);
const view = extra.includes('--view') || extra.some((a) => a.startsWith('--view=')) ? [] : ['--view', '0'];
const host =
  extra.includes('--host') || extra.some((a) => a.startsWith('--host=')) ? [] : ['--host', '127.0.0.1'];
const args = [...host, ...view, ...extra, '0'];
console.log(`$ bin/hserver ${args.join(' ')}`);
const server = spawn(process.execPath, ['bin/hserver', ...args], { stdio: ['ignore', 'inherit', 'pipe'] });
let log = '';
let told = false;
server.stderr.setEncoding('utf8').on('data', (chunk) => {
  process.stderr.write(chunk);
  log += chunk;
  const service = /listening on (\S+):(\d+)\n/.exec(log);
  const page = /view on (\S+)\n/.exec(log);
  if (!told && service && page) {
    told = true;
    const target = service[1] === '0.0.0.0' ? '127.0.0.1' : service[1].replace(/^\[(.*)\]$/, '$1');
    console.log(`\nOpen ${page[1]} in a browser, then in another terminal run a client:`);
    // The client speaks the service the server runs (hclient's --service is the same option).
    const at = extra.findIndex((a) => a === '--service' || a.startsWith('--service='));
    const name = at === -1 ? undefined : extra[at].includes('=') ? extra[at].split('=')[1] : extra[at + 1];
    const option = name === undefined || name === 'hello' ? '' : `--service ${name} `;
    console.log(`  bin/hclient ${option}${target} ${service[2]}`);
    console.log('Ctrl-C stops the server.');
  }
});
// Ctrl-C reaches the server too (same process group); a signal sent to this script alone is passed on.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (server.exitCode === null && server.signalCode === null) server.kill(signal);
  });
}
server.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal === null ? 1 : 0);
});
