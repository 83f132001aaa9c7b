/**
 * The import graph of src/: no circle, and no module imports from a layer above its own. Every
 * `import`, `import type`, `export ... from` and literal `import()` counts (a type-only import still
 * ties the two modules' meanings together). The imports are read with TypeScript's own
 * preProcessFile, so that comments and strings that look like imports are not taken for them.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { ROOT } from '../helpers/process.js';

const SRC = join(ROOT, 'src');

/**
 * The layers, lowest first. A module may import from its own layer and the ones below it only.
 * The trace's vocabulary and channel sit just above the ground: the protocols name addresses in
 * its terms (TraceAddress) and the transports emit its events.
 */
const LAYERS: ReadonlyArray<{ name: string; holds: (path: string) => boolean }> = [
  {
    name: 'ground (errors, defaults, validate, ip-address, unix-address, version)',
    holds: (p) =>
      ['errors.ts', 'defaults.ts', 'validate.ts', 'ip-address.ts', 'unix-address.ts', 'version.ts'].includes(
        p,
      ),
  },
  { name: 'trace', holds: (p) => p.startsWith('trace/') },
  { name: 'protocol', holds: (p) => p.startsWith('protocol/') },
  { name: 'policy', holds: (p) => p.startsWith('policy/') },
  { name: 'transport', holds: (p) => p.startsWith('transport/') },
  {
    name: 'services, view, metrics, bench, cluster',
    holds: (p) => ['services/', 'view/', 'metrics/', 'bench/', 'cluster/'].some((d) => p.startsWith(d)),
  },
  { name: 'cli', holds: (p) => p.startsWith('cli/') },
  { name: 'index', holds: (p) => p === 'index.ts' },
];

function layerOf(path: string): number {
  const index = LAYERS.findIndex((layer) => layer.holds(path));
  assert.notEqual(index, -1, `src/${path} is in no layer: add it to LAYERS`);
  return index;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Each module of src/ (by its path under src/, `/`-separated) and the modules of src/ it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const from = relative(SRC, file).split('\\').join('/');
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .map((imported) => imported.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => posix.normalize(posix.join(posix.dirname(from), name)).replace(/\.js$/, '.ts'));
    graph.set(from, [...new Set(targets)]);
  }
  return graph;
}

/** The circles of the graph, each as the path round it (the first module again at the end). */
function findCircles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const circles: string[][] = [];
  const done = new Set<string>();
  const onPath: string[] = [];
  const visit = (node: string): void => {
    const at = onPath.indexOf(node);
    if (at !== -1) {
      circles.push([...onPath.slice(at), node]);
      return;
    }
    if (done.has(node)) return;
    onPath.push(node);
    for (const next of graph.get(node) ?? []) visit(next);
    onPath.pop();
    done.add(node);
  };
  for (const node of [...graph.keys()].sort()) visit(node);
  return circles;
}

describe('the import graph of src/', () => {
  const graph = importGraph();

  test('reads the imports it should (a check of the reader itself)', () => {
    assert.ok(graph.size > 50, `only ${graph.size} modules found under ${SRC}`);
    assert.ok(graph.get('transport/tcp-server.ts')?.includes('transport/connection.ts'));
    assert.ok(graph.get('index.ts')?.includes('bench/load.ts'));
    for (const [from, targets] of graph) {
      for (const target of targets) {
        assert.ok(graph.has(target), `src/${from} imports ${target}, which is not a module of src/`);
      }
    }
    assert.deepEqual(
      findCircles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
          ['d', ['a']],
        ]),
      ),
      [['a', 'b', 'c', 'a']],
    );
  });

  test('has no circle', () => {
    const circles = findCircles(graph);
    assert.deepEqual(
      circles.map((circle) => circle.join(' -> ')),
      [],
      'modules that import each other, directly or round a circle',
    );
  });

  test('never imports from a higher layer', () => {
    const upward: string[] = [];
    for (const [from, targets] of graph) {
      const own = layerOf(from);
      for (const target of targets) {
        const theirs = layerOf(target);
        if (theirs > own) {
          upward.push(`src/${from} (${LAYERS[own]?.name}) imports src/${target} (${LAYERS[theirs]?.name})`);
        }
      }
    }
    assert.deepEqual(upward, []);
  });

  test('the ground imports nothing of the project at all', () => {
    const ground = [...graph].filter(
      ([from]) => layerOf(from) === 0 && from !== 'validate.ts' && from !== 'unix-address.ts',
    );
    for (const [from, targets] of ground) {
      // validate.ts and unix-address.ts may use errors.ts (their errors); the rest stand alone.
      assert.deepEqual(targets, [], `src/${from} imports ${targets.join(', ')}`);
    }
    assert.deepEqual(graph.get('validate.ts'), ['errors.ts']);
    assert.deepEqual(graph.get('unix-address.ts'), ['errors.ts']);
  });
});
