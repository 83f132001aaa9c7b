/**
 * Helpers for the live view's tests: start a server program with `--view 0` and learn both ports
 * from its stderr, read `/state`, collect Server-Sent Events, and launch Debian's chromium through
 * playwright-core (failing loudly when it is missing: never a skip).
 */

import { get, type IncomingMessage } from 'node:http';
import { type StartedServer, startServer } from './process.js';
import { TOOLS, toolPath } from './tools.js';

/** A server program with its view. */
export interface ViewedServer extends StartedServer {
  /** The service's port. */
  servicePort: number;
  /** The view's base URL, `http://127.0.0.1:PORT/`. */
  url: string;
}

/** The view's line, then the server's listening line (which comes once the view is up): group 1 is the view's port. */
export const VIEW_READY = /view on http:\/\/.*:(\d+)\/\n(?:.*\n)*.*listening on .*:\d+\n/;

/** Starts `program ... --view VIEW 0` and waits for its "view on" line, then its "listening on" line. */
export async function startViewedServer(
  program: string,
  args: readonly string[],
  view = '0',
): Promise<ViewedServer> {
  const server = await startServer(program, ['--view', view, ...args, '0'], {
    readyPattern: VIEW_READY,
  });
  const listening = /listening on .*:(\d+)\n/.exec(server.stderr());
  const url = /view on (http:\/\/\S+\/)\n/.exec(server.stderr())?.[1];
  if (listening?.[1] === undefined || url === undefined)
    throw new Error(`no addresses in: ${server.stderr()}`);
  return { ...server, servicePort: Number(listening[1]), url };
}

/** A GET (or another method) with the status, headers and body. */
export function request(
  url: string,
  { method = 'GET', headers = {} }: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { method, headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
    req.on('error', reject);
  });
}

/** `/state`, parsed. */
export async function getState(base: string): Promise<ViewStateJson> {
  const { status, body } = await request(`${base}state`);
  if (status !== 200) throw new Error(`/state answered ${status}: ${body}`);
  return JSON.parse(body) as ViewStateJson;
}

/** The part of `/state` the tests read. */
export interface ViewStateJson {
  transport: 'tcp' | 'udp';
  service: string;
  connections: Array<{
    id: string;
    local: { address: string; port: number };
    remote: { address: string; port: number };
    steps: string[];
    clientSteps: string[];
    clientSource: 'client' | 'server';
    kernel: { server: string; client: string };
    closedFirst?: string;
    events: Array<{ source: string; action: string; text?: string; state?: string; end?: string }>;
  }>;
  listen?: { address: string; port: number; acceptQueue: number | 'unknown' };
  stats?: { accepted: number };
  kernel: { available: boolean; source: 'ss' | 'proc' | 'none'; ageMs?: number; reads: number };
}

/** Polls `/state` until `check` passes (returns true), bounded by `timeoutMs`. */
export async function waitForState(
  base: string,
  check: (state: ViewStateJson) => boolean,
  timeoutMs = 5_000,
): Promise<ViewStateJson> {
  const deadline = Date.now() + timeoutMs;
  let state = await getState(base);
  while (!check(state)) {
    if (Date.now() > deadline)
      throw new Error(`/state never matched: ${JSON.stringify(state).slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    state = await getState(base);
  }
  return state;
}

/** One Server-Sent Event. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** An open `/events` stream: the events so far, comments counted, and how to end it. */
export interface SseStream {
  status: number;
  events: SseEvent[];
  comments: string[];
  /** Resolves once the server ends the stream. */
  ended: Promise<void>;
  /** Waits until an event passes `check`, bounded by `timeoutMs`. */
  waitFor(check: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

/** Opens `/events` and parses what arrives. */
export function openEvents(base: string): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = get(`${base}events`, (res) => {
      const events: SseEvent[] = [];
      const comments: string[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { event: 'message', data: '' };
          let isEvent = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line);
            else if (line.startsWith('id: ')) event.id = line.slice(4);
            else if (line.startsWith('event: ')) {
              event.event = line.slice(7);
              isEvent = true;
            } else if (line.startsWith('data: ')) {
              event.data += line.slice(6);
              isEvent = true;
            }
          }
          if (isEvent) events.push(event);
          for (const w of waiters) w();
          end = buffer.indexOf('\n\n');
        }
      });
      const ended = new Promise<void>((r) => {
        res.once('end', r);
        res.once('close', r);
      });
      resolve({
        status: res.statusCode ?? 0,
        events,
        comments,
        ended,
        close: () => req.destroy(),
        waitFor: (check, timeoutMs = 5_000) =>
          new Promise((ok, fail) => {
            const look = () => {
              const found = events.find(check);
              if (found === undefined) return;
              clearTimeout(timer);
              waiters.delete(look);
              ok(found);
            };
            const timer = setTimeout(() => {
              waiters.delete(look);
              fail(
                new Error(
                  `no such event within ${timeoutMs} ms; got ${events.map((e) => e.event).join(',')}`,
                ),
              );
            }, timeoutMs);
            waiters.add(look);
            look();
          }),
      });
    });
    req.on('error', reject);
  });
}

/** Where chromium is: CHROMIUM_PATH, else Debian's /usr/bin/chromium (see TOOLS.chromium). */
export function chromiumPath(): string {
  return toolPath(TOOLS.chromium);
}

/** The flags chromium runs with in the tests (headless, no network of its own). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless=new',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
