/**
 * Docs that cannot lie, the links (issue 21): every relative link and image of README.md and
 * docs/**\/*.md reaches a file of the repository, and a link that names a heading (`#anchor`)
 * reaches one there. Every English page of docs/ has its Korean page in docs/ko/, and each links
 * to the other.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, test } from 'node:test';
import { docFiles } from '../helpers/doc-examples.js';
import { extractLinks, headingAnchors, headingSlug } from '../helpers/doc-links.js';
import { ROOT } from '../helpers/process.js';

describe('the link rules', () => {
  test('anchors as GitHub makes them: code, links and punctuation dropped, Hangul kept, repeats numbered', () => {
    assert.equal(headingSlug('`hserver [options] <port>`'), 'hserver-options-port');
    assert.equal(headingSlug('The live view: `--view`'), 'the-live-view---view');
    assert.equal(
      headingSlug('`--workers N`: several processes on one port'),
      '--workers-n-several-processes-on-one-port',
    );
    assert.equal(headingSlug('실시간 보기: `--view`'), '실시간-보기---view');
    assert.equal(headingSlug('Signals, and output that fails'), 'signals-and-output-that-fails');
    assert.equal(headingSlug('[docs](x.md) and **bold**'), 'docs-and-bold');
    assert.deepEqual(headingAnchors('# A\n## B\n```\n# not a heading\n```\n## B\n## B'), [
      'a',
      'b',
      'b-1',
      'b-2',
    ]);
  });

  test('links outside code only: fenced blocks and inline code are not links', () => {
    const text = 'see [a](a.md) and `[b](b.md)`\n```\n[c](c.md)\n```\n![pic](p.png) [d](#x)';
    assert.deepEqual(
      extractLinks(text).map((l) => [l.line, l.target]),
      [
        [1, 'a.md'],
        [5, 'p.png'],
        [5, '#x'],
      ],
    );
  });
});

const files = docFiles(ROOT);
const anchorsOf = new Map<string, Set<string>>();
function anchors(file: string): Set<string> {
  let set = anchorsOf.get(file);
  if (set === undefined) {
    set = new Set(headingAnchors(readFileSync(join(ROOT, file), 'utf8')));
    anchorsOf.set(file, set);
  }
  return set;
}

describe('every link of the README and docs/ reaches its file and heading', () => {
  for (const file of files) {
    test(file, () => {
      const broken: string[] = [];
      for (const link of extractLinks(readFileSync(join(ROOT, file), 'utf8'))) {
        if (/^[a-z][a-z+.-]*:/i.test(link.target)) continue; // a URL: not ours to check here
        const [path = '', anchor] = link.target.split('#', 2);
        const target = path === '' ? file : normalize(join(dirname(file), decodeURIComponent(path)));
        if (target.startsWith('..') || !existsSync(join(ROOT, target))) {
          broken.push(`${file}:${link.line}: ${link.target}: no file ${target}`);
          continue;
        }
        if (anchor === undefined) continue;
        if (!target.endsWith('.md') || statSync(join(ROOT, target)).isDirectory()) {
          broken.push(`${file}:${link.line}: ${link.target}: an anchor into a file that is not a page`);
        } else if (!anchors(target).has(decodeURIComponent(anchor))) {
          broken.push(`${file}:${link.line}: ${link.target}: ${target} has no heading #${anchor}`);
        }
      }
      assert.deepEqual(broken, []);
    });
  }
});

test('every English page of docs/ has its Korean page in docs/ko/, and each links to the other', () => {
  const pages = (dir: string) =>
    readdirSync(join(ROOT, dir))
      .filter((name) => name.endsWith('.md'))
      .sort();
  const english = pages('docs');
  const korean = pages('docs/ko');
  assert.deepEqual(korean, english, 'the same pages in docs/ and docs/ko/');
  for (const page of english) {
    const targets = (file: string) =>
      extractLinks(readFileSync(join(ROOT, file), 'utf8')).map((l) => l.target);
    assert.ok(targets(`docs/${page}`).includes(`ko/${page}`), `docs/${page} links to ko/${page}`);
    assert.ok(targets(`docs/ko/${page}`).includes(`../${page}`), `docs/ko/${page} links to ../${page}`);
  }
});
