/**
 * The PROXY protocol as a pipeline stage: every connection must start with a PROXY header (v1 or
 * v2, told apart by its first bytes) from a trusted proxy. The header names the real client,
 * which the connection then reports as `remote` (and the proxy as `proxy`); its bytes never reach
 * the service, and the service runs only once the header is complete, so that a server that
 * speaks first says nothing before it. Anything else closes the connection unserved.
 */
import { DEFAULT_PROXY_TIMEOUT_MS } from '../defaults.js';
import { ConnectionClosedError, ProxyHeaderError, UntrustedProxyError } from '../errors.js';
import { TrustedProxies } from '../policy/trusted-proxies.js';
import {
  type ProxyHeader,
  type ProxyHeaderParserOptions,
  proxyHeaderPrefix,
} from '../protocol/proxy-header.js';
import type { TraceAddress } from '../trace/schema.js';
import { validateDuration } from '../validate.js';
import { type Connection, type ConnectionStage, readPrefix } from './connection.js';
import { Tally } from './stats.js';

/** Options of a {@link ProxyProtocolStage}. */
export interface ProxyProtocolOptions extends ProxyHeaderParserOptions {
  /**
   * The proxies whose headers are believed, as CIDR blocks (`127.0.0.1/32`, `10.0.0.0/8`,
   * `fd00::/8`; a bare address is one host). A connection from any other address is closed
   * without reading a byte, because a forged header could name any client. On a Unix socket,
   * whose peers have no address, it does not apply: whoever may connect (the file's mode) is
   * the proxy.
   */
  trusted: Iterable<string> | TrustedProxies;
  /** How long the header may take, in ms. @default 3000 */
  timeout?: number;
}

/**
 * Why a connection was refused: a header failure of the parser (`not-proxy`, `v1-malformed`,
 * `v2-crc32c`, ...), or one of the stage's own: `untrusted` (not from a trusted proxy), `timeout`
 * (no complete header in time), `incomplete` (the connection ended or failed first), and
 * `wrong-family` (a PROXY header for UDP or a UNIX socket, on TCP).
 */
export type ProxyRefusal = string;

/**
 * Reads the PROXY header of each connection (see the module's description) and marks a proxy's
 * health checks (LOCAL, or a header naming the proxy's own connection) on the connection. Counts
 * headers by version and refusals by reason: see {@link ProxyProtocolStage.stats}.
 */
export class ProxyProtocolStage implements ConnectionStage {
  readonly name = 'proxy-protocol';
  readonly #trusted: TrustedProxies;
  readonly #timeout: number;
  readonly #parserOptions: ProxyHeaderParserOptions;
  readonly #counts = new Tally();

  constructor(options: ProxyProtocolOptions) {
    this.#trusted =
      options.trusted instanceof TrustedProxies ? options.trusted : new TrustedProxies(options.trusted);
    this.#timeout = validateDuration(options.timeout ?? DEFAULT_PROXY_TIMEOUT_MS, 'proxy timeout');
    this.#parserOptions = options.maxV2Length === undefined ? {} : { maxV2Length: options.maxV2Length };
    // Validate the parser's options now, not on the first connection.
    proxyHeaderPrefix(this.#parserOptions);
  }

  async run(connection: Connection): Promise<void> {
    const { socket } = connection;
    // Read both ends now, while the socket is surely open: a proxy's health check may reset it
    // as soon as its header is sent, and a closed socket has no addresses.
    const peer = connection.remote;
    const local = connection.local;
    // No peer address: the connection was reset before it was accepted, so there is no one to
    // serve and no way to know whether a header it left is to be believed: it is not read. This
    // is what HAProxy's health checks look like on a fast link (connect, header, reset), so it
    // counts as a probe, not as an error.
    // On a Unix socket the peer has no address to trust or not: the file's mode and its
    // directory's permissions decide who may connect, and whoever may is the proxy.
    if (peer === undefined && connection.unixPath === undefined) {
      connection.markHealthCheck();
      throw new ConnectionClosedError('the connection was reset before it could be read', { call: 'accept' });
    }
    if (peer !== undefined && !this.#trusted.isTrusted(peer.address)) {
      this.#counts.add('refused:untrusted');
      throw new UntrustedProxyError(`${peer.address} is not a trusted proxy: its PROXY header is not read`, {
        call: 'accept',
      });
    }
    let header: ProxyHeader;
    try {
      header = await readPrefix(socket, proxyHeaderPrefix(this.#parserOptions), {
        timeout: this.#timeout,
        what: 'PROXY header',
      });
    } catch (error) {
      const reason = refusalReason(error);
      // Connected and closed without a byte: a probe, such as HAProxy's plain TCP health check
      // (`check` without `check-send-proxy`) or a port scan. Nothing was refused.
      if (reason === 'incomplete' && socket.bytesRead === 0) connection.markHealthCheck();
      else this.#counts.add(`refused:${reason}`);
      throw error;
    }
    this.#counts.add(`v${header.version}`);
    if (header.command === 'proxy' && !['tcp4', 'tcp6', 'unknown'].includes(header.family)) {
      this.#counts.add('refused:wrong-family');
      throw new ProxyHeaderError(`a PROXY header for ${header.family} on a TCP connection`, {
        reason: 'v2-bad-family',
        call: 'read',
      });
    }
    if (isHealthCheck(header, peer, local)) {
      connection.markHealthCheck();
      return;
    }
    if (header.source !== undefined) connection.setClient(header.source);
  }

  /**
   * The counts so far: `v1` and `v2` (headers read, health checks' included), and
   * `refused:REASON` by {@link ProxyRefusal}. The server counts the health checks.
   */
  stats(): Record<string, number> {
    return this.#counts.toRecord();
  }
}

// LOCAL is a proxy's own connection (HAProxy's health checks with send-proxy-v2). In v1 there is
// no LOCAL: HAProxy's checks send a TCP4 line naming the check's own connection, so a header
// whose source and destination are this socket's own two ends is the proxy speaking for itself.
function isHealthCheck(
  header: ProxyHeader,
  peer: TraceAddress | undefined,
  local: TraceAddress | undefined,
): boolean {
  if (header.command === 'local') return true;
  const { source, destination } = header;
  return (
    source !== undefined && destination !== undefined && sameEnd(source, peer) && sameEnd(destination, local)
  );
}

// A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d.
function sameEnd(a: TraceAddress, b: TraceAddress | undefined): boolean {
  if (b === undefined || a.port !== b.port) return false;
  const plain = (x: string) => (x.toLowerCase().startsWith('::ffff:') && x.includes('.') ? x.slice(7) : x);
  return plain(a.address) === plain(b.address);
}

function refusalReason(error: unknown): ProxyRefusal {
  if (error instanceof ProxyHeaderError) return error.reason;
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'ERR_READ_TIMEOUT' ? 'timeout' : 'incomplete';
}
