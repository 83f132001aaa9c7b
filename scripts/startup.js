// Start-up cost of hclient against a bare `node -e 0`: runs both alternately (so machine drift
// hits both alike) and prints the medians and their ratio. Usage: node scripts/startup.js PORT [RUNS]
import { spawnSync } from 'node:child_process';

const port = process.argv[2];
const runs = Number(process.argv[3] ?? 40);
if (!port) {
  console.error('usage: node scripts/startup.js PORT [RUNS]  (a hello server must listen on 127.0.0.1:PORT)');
  process.exit(2);
}
// The floor for any Node TCP client: load node:net, connect, read, print, close; nothing else.
const bare = `const s=require('net').connect(${Number(port)},'127.0.0.1');s.on('data',d=>{process.stdout.write(d);s.destroy()})`;
const commands = {
  'node -e 0': [process.execPath, ['-e', '0']],
  'bare node:net client': [process.execPath, ['-e', bare]],
  'hclient 127.0.0.1 PORT': [process.execPath, ['bin/hclient', '127.0.0.1', port]],
};
const times = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
for (let i = 0; i < runs + 3; i++) {
  for (const [name, [cmd, args]] of Object.entries(commands)) {
    const start = process.hrtime.bigint();
    const result = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) {
      console.error(`${name} failed with ${result.status}`);
      process.exit(1);
    }
    if (i >= 3) times[name].push(ms); // the first runs warm the page cache
  }
}
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const base = median(times['node -e 0']);
console.log('| command | median ms | / node -e 0 |\n|---|---:|---:|');
for (const name of Object.keys(commands)) {
  const m = median(times[name]);
  console.log(`| ${name} | ${m.toFixed(1)} | ${(m / base).toFixed(3)} |`);
}
const ours = median(times['hclient 127.0.0.1 PORT']);
console.log(`startup ratio=${(ours / base).toFixed(3)} (hclient / node -e 0, ${runs} runs each)`);
