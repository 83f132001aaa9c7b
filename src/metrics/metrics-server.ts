/**
 * `GET /metrics` over HTTP for Prometheus, with `node:http`: a handler that can be mounted on
 * another server (the live view's), and a small server of its own. Only GET and HEAD are
 * answered (405 otherwise), any other path gets 404, and a failure to collect gets 500 without
 * touching the service. The server of its own answers only its own Hosts, holds a few
 * connections at most, and closes the ones that send no request in time (src/transport/http-guard.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_HTTP_HOST, HTTP_HEADERS_TIMEOUT_MS, METRICS_MAX_CONNECTIONS } from '../defaults.js';
import { describeSystemError } from '../errors.js';
import { HttpGuard, type HttpGuardCounts } from '../transport/http-guard.js';
import { validateHost, validatePort } from '../validate.js';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus.js';

/** Produces the exposition text (see formatMetrics). */
export type CollectMetrics = () => string | Promise<string>;

/** Answers one request for `/metrics` (the path is the caller's to check). */
export function serveMetrics(
  collect: CollectMetrics,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    response.end('only GET and HEAD\n');
    return;
  }
  Promise.resolve()
    .then(collect)
    .then(
      (text) => {
        response.writeHead(200, {
          'content-type': PROMETHEUS_CONTENT_TYPE,
          'content-length': Buffer.byteLength(text),
          'cache-control': 'no-store',
        });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(`cannot collect the metrics: ${describeSystemError(error)}\n`);
      },
    );
}

/** Options of a {@link MetricsServer}. */
export interface MetricsServerOptions {
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Address to bind. @default '127.0.0.1' */
  host?: string;
  /** Produces the exposition text on each scrape. */
  collect: CollectMetrics;
  /**
   * Names (or addresses) answered besides the server's own: `localhost`, 127.x.y.z, `[::1]`, the
   * bound address (not a wildcard's), and the host when it is a name. Every other `Host` gets 403.
   */
  allowedHosts?: readonly string[];
  /** Most connections at once. @default 8 */
  maxConnections?: number;
  /** ms a connection may take to send a request head before it is closed. @default 5000 */
  headersTimeout?: number;
  /** The process's descriptor reserve (as the service's); `false` for none. @default 32 */
  descriptorReserve?: number | false;
}

/** An HTTP server answering `GET /metrics`. */
export class MetricsServer {
  readonly #guard: HttpGuard;
  #listening: Promise<AddressInfo> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: MetricsServerOptions) {
    const host = validateHost(options.host ?? DEFAULT_HTTP_HOST);
    const port = validatePort(options.port);
    const { collect } = options;
    this.#guard = new HttpGuard(
      {
        host,
        port,
        maxConnections: options.maxConnections ?? METRICS_MAX_CONNECTIONS,
        // Keep-alive scrapers must not hold close() up either: an idle one is closed after this.
        headersTimeout: options.headersTimeout ?? HTTP_HEADERS_TIMEOUT_MS,
        ...(options.allowedHosts === undefined ? {} : { allowedHosts: options.allowedHosts }),
        ...(options.descriptorReserve === undefined ? {} : { descriptorReserve: options.descriptorReserve }),
      },
      (request, response, target) => {
        if (target.path === '/metrics') {
          serveMetrics(collect, request, response);
          return;
        }
        response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        response.end('not found: the metrics are at /metrics\n');
      },
    );
  }

  /** What the server's HTTP guard refused or closed (Hosts, the connection cap, timeouts, descriptors). */
  get refusals(): HttpGuardCounts {
    return this.#guard.counts();
  }

  /** Binds; resolves with the address, rejects with a {@link BindError}. */
  listen(): Promise<AddressInfo> {
    this.#listening ??= this.#guard.listen(() => {});
    return this.#listening;
  }

  /** Stops listening and ends every connection now. Safe to call more than once, and before listen(). */
  close(): Promise<void> {
    this.#closing ??= (this.#listening ?? Promise.resolve()).catch(() => {}).then(() => this.#guard.close());
    return this.#closing;
  }
}
