/**
 * The system programs some tests drive (Debian's haproxy, nginx, promtool, systemd's tools):
 * found where Debian puts them, or a loud failure naming the package to install (.ci/run installs
 * every one of them). A test never skips because a tool is missing.
 */
import { spawnSync } from 'node:child_process';

/** The first of `paths` that runs with `versionArgs`; throws naming `pkg` when none does. */
export function findTool(paths: readonly string[], versionArgs: readonly string[], pkg: string): string {
  for (const path of paths) {
    if (spawnSync(path, versionArgs).status === 0) return path;
  }
  throw new Error(`${paths[0]} not found: install Debian package ${pkg} (.ci/run does)`);
}

/** systemd-socket-activate (package systemd). */
export const socketActivator = () =>
  findTool(['/usr/bin/systemd-socket-activate', '/bin/systemd-socket-activate'], ['--version'], 'systemd');
/** systemd-analyze (package systemd). */
export const systemdAnalyze = () =>
  findTool(['/usr/bin/systemd-analyze', '/bin/systemd-analyze'], ['--version'], 'systemd');
/** promtool (package prometheus). */
export const promtool = () =>
  findTool(['/usr/bin/promtool', '/usr/local/bin/promtool'], ['--version'], 'prometheus');
/** haproxy (package haproxy). */
export const haproxy = () => findTool(['/usr/sbin/haproxy', '/usr/bin/haproxy'], ['-v'], 'haproxy');
/** nginx (packages nginx and libnginx-mod-stream). */
export const nginx = () =>
  findTool(['/usr/sbin/nginx', '/usr/bin/nginx'], ['-v'], 'nginx and libnginx-mod-stream');
/** ss (package iproute2), as the live view's kernel reader uses it. */
export const ss = () => findTool(['/usr/bin/ss', '/sbin/ss', '/usr/sbin/ss', '/bin/ss'], ['-V'], 'iproute2');
