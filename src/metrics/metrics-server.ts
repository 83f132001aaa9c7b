/**
 * `GET /metrics` over HTTP for Prometheus, with `node:http`: a handler that can be mounted on
 * another server (the live view's), and a small server of its own. Only GET and HEAD are
 * answered (405 otherwise), any other path gets 404, and a failure to collect gets 500 without
 * touching the service.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_HTTP_HOST } from '../defaults.js';
import { describeSystemError } from '../errors.js';
import { listenHttp } from '../transport/listen-http.js';
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
}

/** An HTTP server answering `GET /metrics`. */
export class MetricsServer {
  readonly #server: Server;
  readonly #host: string;
  readonly #port: number;
  #listening: Promise<AddressInfo> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: MetricsServerOptions) {
    this.#host = validateHost(options.host ?? DEFAULT_HTTP_HOST);
    this.#port = validatePort(options.port);
    const { collect } = options;
    this.#server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (path === '/metrics') {
        serveMetrics(collect, request, response);
        return;
      }
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('not found: the metrics are at /metrics\n');
    });
    // Keep-alive scrapers must not hold close() up.
    this.#server.keepAliveTimeout = 5_000;
    this.#server.on('clientError', (_error, socket) => socket.destroy());
  }

  /** Binds; resolves with the address, rejects with a {@link BindError}. */
  listen(): Promise<AddressInfo> {
    this.#listening ??= listenHttp(this.#server, this.#host, this.#port, () => {});
    return this.#listening;
  }

  /** Stops listening and ends every connection now. Safe to call more than once, and before listen(). */
  close(): Promise<void> {
    this.#closing ??= (this.#listening ?? Promise.resolve())
      .catch(() => {})
      .then(
        () =>
          new Promise<void>((resolve) => {
            if (!this.#server.listening) {
              resolve();
              return;
            }
            this.#server.close(() => resolve());
            this.#server.closeAllConnections();
          }),
      );
    return this.#closing;
  }
}
