// npm run view [-- <more hserver options>]: the visual demo. Starts a hello server on 127.0.0.1
// with the live view of the lecture's diagrams (both on free ports), prints where to open the page
// and the hclient command to run in another terminal, and runs until Ctrl-C. Every option goes to
// hserver (`-- --service greet`, `-- --lang ko`, `-- --view 8080`); with `--lang ko` these
// instructions are in Korean too.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

createRequire(import.meta.url)('../bin/preflight.cjs')('view');

const extra = process.argv.slice(2);
// The value of an option given as `--name value` or `--name=value`.
const option = (name) => {
  const at = extra.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (at === -1) return undefined;
  return extra[at].includes('=') ? extra[at].slice(extra[at].indexOf('=') + 1) : extra[at + 1];
};
const ko = option('--lang') === 'ko';
const say = {
  open: (url) =>
    ko
      ? `\n브라우저로 ${url} 에 접속한 뒤, 다른 터미널에서 클라이언트를 실행하세요:`
      : `\nOpen ${url} in a browser, then in another terminal run a client:`,
  stop: ko ? 'Ctrl-C를 누르면 서버가 멈춥니다.' : 'Ctrl-C stops the server.',
};
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
    console.log(say.open(page[1]));
    // The client speaks the service the server runs (hclient's --service is the same option).
    const name = option('--service');
    const serviceOption = name === undefined || name === 'hello' ? '' : `--service ${name} `;
    console.log(`  bin/hclient ${serviceOption}${target} ${service[2]}`);
    console.log(say.stop);
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
