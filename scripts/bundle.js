// Bundles each CLI (src/cli/<name>.ts, one per shim in bin/) into one CommonJS file,
// dist/bin/<name>.cjs. A single CommonJS file starts several milliseconds faster than the ESM
// module graph, and a client's start-up is most of its run time (see docs/performance.md).
import { readdirSync } from 'node:fs';
import { build } from 'esbuild';

const names = readdirSync(new URL('../bin/', import.meta.url)).filter((name) => !name.includes('.'));
await build({
  entryPoints: names.map((name) => ({ in: `src/cli/${name}.ts`, out: name })),
  outdir: 'dist/bin',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  sourcemap: 'linked',
  define: { 'import.meta.url': 'importMetaUrl' },
  inject: ['scripts/import-meta-url.js'],
  logLevel: 'warning',
});
