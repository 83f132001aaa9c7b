/**
 * The links of README.md and docs/**\/*.md, as data: every Markdown link and image outside code,
 * and the anchors each page's headings give, named as GitHub names them. test/docs/links.test.ts
 * checks that each relative link reaches a file and, where it names one, a heading there. Its
 * functions read only the text they are given.
 */
import { FENCE } from './doc-examples.js';

/** One link as written: `[label](target)` or `![alt](target)`. */
export interface DocLink {
  /** 1-based line of the link. */
  line: number;
  label: string;
  /** The target as written: a path, `path#anchor`, `#anchor` or a URL. */
  target: string;
}

const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
// A link's target has no blanks (none of ours has a title); the label may hold inline code.
const LINK = /!?\[([^\]]*)\]\(([^)\s]+)\)/g;

/** The lines of `text` that are not inside a fenced code block, with their 1-based numbers. */
function proseLines(text: string): Array<{ line: number; text: string }> {
  const lines: Array<{ line: number; text: string }> = [];
  let fence: string | undefined;
  text.split('\n').forEach((line, index) => {
    const open = FENCE.exec(line);
    if (open !== null) {
      const mark = open[2] as string;
      if (fence === undefined) fence = mark[0]?.repeat(mark.length);
      else if (mark.startsWith(fence)) fence = undefined;
      return;
    }
    if (fence === undefined) lines.push({ line: index + 1, text: line });
  });
  return lines;
}

/** Every link and image of `text` outside code blocks and inline code spans. */
export function extractLinks(text: string): DocLink[] {
  const links: DocLink[] = [];
  for (const { line, text: prose } of proseLines(text)) {
    // Inline code shows link syntax without making a link: blank it out, keeping the columns.
    const bare = prose.replace(/(`+)[^`]*?\1/g, (code) => ' '.repeat(code.length));
    for (const match of bare.matchAll(LINK)) {
      links.push({ line, label: match[1] as string, target: match[2] as string });
    }
  }
  return links;
}

/**
 * The anchor GitHub gives a heading's text: its words without Markdown, lower case, every
 * character that is not a letter, a mark, a digit, `_`, `-` or a space dropped, spaces as `-`.
 */
export function headingSlug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a page's headings give, in order; a repeated one gets `-1`, `-2`, ... as on GitHub. */
export function headingAnchors(text: string): string[] {
  const seen = new Map<string, number>();
  const anchors: string[] = [];
  for (const { text: line } of proseLines(text)) {
    const match = HEADING.exec(line);
    if (match === null) continue;
    const slug = headingSlug(match[2] as string);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.push(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}
