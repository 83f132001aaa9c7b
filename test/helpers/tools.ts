/**
 * The system programs some tests drive (Debian's chromium, haproxy, nginx, promtool, systemd's
 * tools, ...). A test that needs one declares it with {@link needs}: on a machine without it the
 * test is skipped, the reason naming the Debian package that provides it, and the run's last
 * lines list every skip (scripts/skip-summary.mjs). Where SOCKET_STEPS_REQUIRE_TOOLS=1 (.ci/run
 * sets it, having installed every one), a missing program fails the test file instead: CI never
 * passes with a skip.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** A system program: where Debian puts it, how to check that it runs, and its package. */
export interface Tool {
  /** Its name in messages. */
  name: string;
  /** Where to look, first match wins. */
  paths: readonly string[];
  /** Arguments that make it print its version and exit 0. */
  versionArgs: readonly string[];
  /** The Debian package(s) that provide it. */
  pkg: string;
  /** Files that must be there too (a module of it). */
  files?: readonly string[];
  /** What it must print for its `versionArgs` (a font list that must not be empty). */
  output?: RegExp;
}

/** Every system program the tests use. */
export const TOOLS = {
  chromium: {
    name: 'chromium',
    paths: [process.env.CHROMIUM_PATH || '/usr/bin/chromium'],
    versionArgs: ['--version'],
    pkg: 'chromium',
  },
  haproxy: {
    name: 'haproxy',
    paths: ['/usr/sbin/haproxy', '/usr/bin/haproxy'],
    versionArgs: ['-v'],
    pkg: 'haproxy',
  },
  nginx: {
    name: 'nginx with its stream module',
    paths: ['/usr/sbin/nginx', '/usr/bin/nginx'],
    versionArgs: ['-v'],
    pkg: 'nginx and libnginx-mod-stream',
    files: ['/usr/lib/nginx/modules/ngx_stream_module.so'],
  },
  promtool: {
    name: 'promtool',
    paths: ['/usr/bin/promtool', '/usr/local/bin/promtool'],
    versionArgs: ['--version'],
    pkg: 'prometheus',
  },
  socketActivate: {
    name: 'systemd-socket-activate',
    paths: ['/usr/bin/systemd-socket-activate', '/bin/systemd-socket-activate'],
    versionArgs: ['--version'],
    pkg: 'systemd',
  },
  systemdAnalyze: {
    name: 'systemd-analyze',
    paths: ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'],
    versionArgs: ['--version'],
    pkg: 'systemd',
  },
  gcc: {
    name: 'gcc',
    paths: ['/usr/bin/gcc', '/usr/local/bin/gcc'],
    versionArgs: ['--version'],
    pkg: 'gcc and libc6-dev',
  },
  script: {
    name: 'script',
    paths: ['/usr/bin/script', '/bin/script'],
    versionArgs: ['--version'],
    pkg: 'bsdutils',
  },
  koreanFont: {
    name: 'a Korean font (chromium draws Korean as boxes without one)',
    paths: ['/usr/bin/fc-list', '/bin/fc-list'],
    versionArgs: [':lang=ko'],
    pkg: 'fonts-noto-cjk and fontconfig',
    output: /\S/,
  },
  socat: {
    name: 'socat',
    paths: ['/usr/bin/socat', '/usr/local/bin/socat'],
    versionArgs: ['-V'],
    pkg: 'socat',
  },
  ncOpenbsd: {
    name: "OpenBSD's nc (for -U and -N)",
    paths: ['/usr/bin/nc.openbsd', '/bin/nc.openbsd'],
    versionArgs: ['-h'],
    pkg: 'netcat-openbsd',
  },
  xinetd: {
    name: 'xinetd',
    paths: ['/usr/sbin/xinetd', '/usr/bin/xinetd'],
    versionArgs: ['-version'],
    pkg: 'xinetd',
  },
  hexdump: {
    name: 'hexdump',
    paths: ['/usr/bin/hexdump', '/bin/hexdump'],
    versionArgs: ['-V'],
    pkg: 'bsdextrautils',
  },
  ss: {
    name: 'ss',
    paths: ['/usr/bin/ss', '/bin/ss', '/sbin/ss', '/usr/sbin/ss'],
    versionArgs: ['-V'],
    pkg: 'iproute2',
  },
  openssl: {
    name: 'openssl',
    paths: ['/usr/bin/openssl', '/bin/openssl'],
    versionArgs: ['version'],
    pkg: 'openssl',
  },
  ncat: {
    name: 'ncat',
    paths: ['/usr/bin/ncat', '/bin/ncat'],
    versionArgs: ['--version'],
    pkg: 'ncat',
  },
} as const satisfies Record<string, Tool>;

/** The switch that turns a missing program into a failure (set by .ci/run). */
export const REQUIRE_TOOLS_VARIABLE = 'SOCKET_STEPS_REQUIRE_TOOLS';

const found = new Map<Tool, string | undefined>();

/** Where `tool` is, or undefined when no path of it runs. */
export function locate(tool: Tool): string | undefined {
  if (!found.has(tool)) {
    const path = tool.paths.find((p) => {
      if (!existsSync(p)) return false;
      const run = spawnSync(p, tool.versionArgs, { encoding: 'utf8' });
      return run.status === 0 && (tool.output === undefined || tool.output.test(run.stdout));
    });
    found.set(tool, (tool.files ?? []).every((f) => existsSync(f)) ? path : undefined);
  }
  return found.get(tool);
}

/** Why a test that needs `tool` cannot run here. */
function missing(tool: Tool): string {
  return `${tool.name} not found: install Debian package ${tool.pkg} (.ci/run does)`;
}

/**
 * Test (or describe) options for a test that needs every one of `tools`: `{}` when they are all
 * here; `{ skip: reason }` when one is missing; and under SOCKET_STEPS_REQUIRE_TOOLS=1 a throw
 * naming the package, so that the file fails.
 */
export function needs(...tools: Tool[]): { skip?: string } {
  for (const tool of tools) {
    if (locate(tool) !== undefined) continue;
    if (process.env[REQUIRE_TOOLS_VARIABLE] === '1') throw new Error(missing(tool));
    return { skip: missing(tool) };
  }
  return {};
}

/** The path of `tool`; throws naming the package when it is missing (use {@link needs} first). */
export function toolPath(tool: Tool): string {
  const path = locate(tool);
  if (path === undefined) throw new Error(missing(tool));
  return path;
}

/** systemd-socket-activate (package systemd). */
export const socketActivator = () => toolPath(TOOLS.socketActivate);
/** systemd-analyze (package systemd). */
export const systemdAnalyze = () => toolPath(TOOLS.systemdAnalyze);
/** promtool (package prometheus). */
export const promtool = () => toolPath(TOOLS.promtool);
/** haproxy (package haproxy). */
export const haproxy = () => toolPath(TOOLS.haproxy);
/** socat (package socat). */
export const socat = () => toolPath(TOOLS.socat);
/** OpenBSD's nc (package netcat-openbsd). */
export const ncOpenbsd = () => toolPath(TOOLS.ncOpenbsd);
/** xinetd (package xinetd): its built-in classic services are the reference for ours. */
export const xinetd = () => toolPath(TOOLS.xinetd);
/** nginx (packages nginx and libnginx-mod-stream). */
export const nginx = () => toolPath(TOOLS.nginx);
