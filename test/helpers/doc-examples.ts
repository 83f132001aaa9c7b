/**
 * The shell sessions shown in README.md and docs/**\/*.md, as data: where each one is, how it is
 * marked, its commands and the output shown for each, and the normalisations under which shown and
 * printed output are compared. test/docs/examples.test.ts runs them; this module only reads text,
 * so that the rules are in one place and the README's Development section can point here.
 *
 * A marker is an HTML comment on the line just before the opening fence:
 * - `<!-- example: run -->`: the test runs the session and compares what it prints;
 *   `<!-- example: run, figures vary -->` also masks every number of the output (load figures);
 *   `<!-- example: run; typed at nc: "Hi. I'm Bob." "Nice to meet you, Jane." -->` runs the first
 *   command whose program is `nc` on a terminal and types those lines, each once the output shown
 *   before it has come (the terminal's echo of them is part of the output shown);
 * - `<!-- example: not-run: REASON -->`: the session cannot run here (a real systemd, another host,
 *   a terminal to type at, ...); REASON says why.
 * A fenced block that looks like a shell session (a line that starts with `$ `) must carry one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One command of a session and the output shown under it. */
export interface ExampleStep {
  /** The command, without the `$ ` and without a trailing `# comment`. */
  command: string;
  /** Started in the background (the command ends with `&`, which is removed). */
  background: boolean;
  /** The lines shown under the command, up to the next command (trailing blank lines dropped). */
  expected: string[];
  /** The exit status the example shows in a note such as `(exit 1)`, if it shows one. */
  exitCode?: number;
  /** Lines typed at the command on a terminal (`typed at PROGRAM: ...`), in order. */
  typed?: string[];
}

/** A marked shell session. */
export interface DocExample {
  /** The file, relative to the repository root. */
  file: string;
  /** The line of the opening fence (1-based). */
  line: number;
  /** `run` or `not-run`. */
  mode: 'run' | 'not-run';
  /** Why a `not-run` example is not run. */
  reason?: string;
  /** Output numbers vary from run to run (`run, figures vary`). */
  figuresVary: boolean;
  /** The commands in order. */
  steps: ExampleStep[];
}

/** A fenced block that looks like a shell session but has no marker (or a malformed one). */
export interface UnmarkedBlock {
  /** The file, relative to the repository root. */
  file: string;
  /** The line of the opening fence (1-based). */
  line: number;
  /** What is wrong. */
  problem: string;
}

const MARKER = /^\s*<!--\s*example:\s*(.*?)\s*-->\s*$/;
/** A fence line: its indent, its run of backticks or tildes, and its info string. */
export const FENCE = /^(\s*)(`{3,}|~{3,})(.*)$/;
/** A note at the end of a shown line, after three or more spaces: `(stdout, exit 1)`. */
const NOTE = /\s{3,}\(([^()]*)\)\s*$/;

/** The Markdown files whose examples are checked: README.md and every docs/**\/*.md. */
export function docFiles(root: string): string[] {
  const files = ['README.md'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) files.push(relative(root, join(root, path)));
    }
  };
  walk('docs');
  return files;
}

/** Splits a session's lines into commands and the output shown under each. */
export function parseSession(lines: readonly string[]): ExampleStep[] {
  const steps: ExampleStep[] = [];
  for (const line of lines) {
    if (line.startsWith('$ ')) {
      // A comment starts at a '#' with blanks on both sides (none of the examples quotes one).
      let command = line
        .slice(2)
        .replace(/\s+#\s.*$/, '')
        .trim();
      const background = /(^|[^&])&$/.test(command);
      if (background) command = command.slice(0, -1).trim();
      steps.push({ command, background, expected: [] });
      continue;
    }
    const step = steps.at(-1);
    if (step === undefined) continue; // text above the first command: not output of anything
    const note = NOTE.exec(line);
    if (note) {
      const exit = /\bexit (\d+)\b/.exec(note[1] ?? '');
      if (exit) step.exitCode = Number(exit[1]);
      step.expected.push(line.slice(0, note.index));
    } else step.expected.push(line);
  }
  for (const step of steps) while (step.expected.at(-1)?.trim() === '') step.expected.pop();
  return steps;
}

/** Every marked example of one Markdown text, and every shell-session block without a marker. */
export function extractExamples(
  file: string,
  text: string,
): { examples: DocExample[]; unmarked: UnmarkedBlock[] } {
  const lines = text.split('\n');
  const examples: DocExample[] = [];
  const unmarked: UnmarkedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (!open) continue;
    const indent = open[1] ?? '';
    const fence = open[2] ?? '```';
    let end = i + 1;
    while (end < lines.length && !(lines[end] ?? '').trim().startsWith(fence)) end++;
    const body = lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l));
    const line = i + 1;
    const marker = MARKER.exec(lines[i - 1] ?? '');
    i = end;
    const isSession = body.some((l) => l.startsWith('$ '));
    if (!marker) {
      if (isSession) unmarked.push({ file, line, problem: 'a shell session without an example marker' });
      continue;
    }
    if (!isSession) {
      unmarked.push({ file, line, problem: 'an example marker on a block with no `$ ` command' });
      continue;
    }
    const spec = marker[1] ?? '';
    const notRun = /^not-run:\s*(\S.*)$/.exec(spec);
    if (notRun) {
      examples.push({
        file,
        line,
        mode: 'not-run',
        reason: notRun[1],
        figuresVary: false,
        steps: parseSession(body),
      });
    } else if (/^run(,\s*figures vary)?(;\s*typed at [\w.-]+:(\s*"[^"]*")+)?$/.test(spec)) {
      const steps = parseSession(body);
      const typed = /;\s*typed at ([\w.-]+):(.*)$/.exec(spec);
      if (typed) {
        const program = typed[1];
        const step = steps.find(
          (s) => !s.background && s.command.split(/\s+/)[0]?.split('/').at(-1) === program,
        );
        if (step === undefined) {
          unmarked.push({ file, line, problem: `'typed at ${program}' but no command runs ${program}` });
          continue;
        }
        step.typed = [...(typed[2] ?? '').matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? '');
      }
      examples.push({ file, line, mode: 'run', figuresVary: spec.includes('figures vary'), steps });
    } else {
      unmarked.push({
        file,
        line,
        problem: `a malformed marker '${spec}' (run[, figures vary][; typed at PROGRAM: "LINE" ...], or not-run: REASON)`,
      });
    }
  }
  return { examples, unmarked };
}

/** Every example of README.md and docs/**\/*.md under `root`. */
export function allExamples(root: string): { examples: DocExample[]; unmarked: UnmarkedBlock[] } {
  const examples: DocExample[] = [];
  const unmarked: UnmarkedBlock[] = [];
  for (const file of docFiles(root)) {
    const found = extractExamples(file, readFileSync(join(root, file), 'utf8'));
    examples.push(...found.examples);
    unmarked.push(...found.unmarked);
  }
  return { examples, unmarked };
}

/**
 * The ports an example shows: a number from 1024 to 65535 that is the last argument of a server
 * (`hserver ... 9190`), follows an address (`hclient 127.0.0.1 9190`, `/dev/tcp/127.0.0.1/9190`),
 * or follows a colon in a command (`sport = :9190`). Port 0 is not one: the system picks it.
 */
export function shownPorts(steps: readonly ExampleStep[]): number[] {
  const ports = new Set<number>();
  const add = (text: string | undefined): void => {
    const n = Number(text);
    if (Number.isInteger(n) && n >= 1024 && n <= 65535) ports.add(n);
  };
  for (const { command } of steps) {
    for (const part of command.split(/[|;]/)) {
      const words = part.trim().split(/\s+/);
      if (/(^|\/)[hu]server$/.test(words[0] ?? '')) add(words.at(-1));
      for (let k = 1; k < words.length; k++) {
        if (/^(\d{1,3}(\.\d{1,3}){3}|::1|localhost)$/.test(words[k - 1] ?? '')) add(words[k]);
      }
    }
    for (const m of command.matchAll(/\/dev\/(?:tcp|udp)\/[^/\s]+\/(\d+)/g)) add(m[1]);
    for (const m of command.matchAll(/(?:^|[\s"'(,])(?:[\d.]+)?:(\d{4,5})\b|",(\d{4,5})\)/g))
      add(m[1] ?? m[2]);
  }
  return [...ports];
}

/** Replaces every shown port (as a whole number) by its stand-in. */
export function mapPorts(text: string, map: ReadonlyMap<number, number>): string {
  let out = text;
  for (const [from, to] of map) out = out.replace(new RegExp(`(?<!\\d)${from}(?!\\d)`, 'g'), String(to));
  return out;
}

/**
 * The normalisations under which a shown line and a printed line are equal:
 * - a port after `ADDRESS:` that is not one of the example's own ports is a client's ephemeral
 *   port: `:<port>` (also before a `]` that closes a bracket of text, as in `--hex`'s headings
 *   `[#1 server → 127.0.0.1:53422]`, but not in an IPv6 literal's `[fe80::1:2]:9190`);
 * - ss's process column: the name, `pid=N` and `fd=N` are `users:(("<process>",pid=<pid>,fd=<fd>`
 *   (Node's process name is `node` on some lines and `MainThread` on others);
 * - a run of two or more spaces is one space (columns widen with the numbers in them), and blanks
 *   at the end of a line are ignored;
 * - under `figures vary`, every number is `<n>`.
 */
export function normalise(line: string, ports: ReadonlySet<number>, figuresVary: boolean): string {
  let out = line
    .replace(/(?<=[\w\]]):(\d{1,5})(?![\d:]|\]:)/g, (all, n: string) =>
      ports.has(Number(n)) ? all : ':<port>',
    )
    .replace(/users:\(\("[^"]*",/g, 'users:(("<process>",')
    .replace(/\bpid=\d+/g, 'pid=<pid>')
    .replace(/\bfd=\d+/g, 'fd=<fd>')
    .replace(/ {2,}/g, ' ')
    .trimEnd();
  if (figuresVary) out = out.replace(/\d+(\.\d+)?/g, '<n>');
  return out;
}

// A shown line with `...` in it: each `...` stands for any text.
function wildcard(line: string): RegExp {
  return new RegExp(
    `^${line
      .split('...')
      .map((part) => part.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'))
      .join('.*')}$`,
    's',
  );
}

/**
 * Whether printed lines match shown lines: equal after {@link normalise}, where a shown line that
 * is only `...` stands for any lines (none included), and within a line `...` stands for any text.
 */
export function linesMatch(shown: readonly string[], printed: readonly string[]): boolean {
  const at = (s: number, p: number): boolean => {
    if (s === shown.length) return p === printed.length;
    const want = shown[s] ?? '';
    if (want.trim() === '...') {
      for (let q = p; q <= printed.length; q++) if (at(s + 1, q)) return true;
      return false;
    }
    if (p === printed.length) return false;
    const got = printed[p] ?? '';
    const ok = want.includes('...') ? wildcard(want).test(got) : got === want;
    return ok && at(s + 1, p + 1);
  };
  return at(0, 0);
}
