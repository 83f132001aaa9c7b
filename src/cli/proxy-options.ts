/**
 * hserver's PROXY protocol options: `--proxy-protocol`, `--trusted-proxy CIDR` (repeatable) and
 * `--proxy-timeout SECS`. Whether a header comes is never guessed: with the option every
 * connection must start with one, and only from a trusted proxy.
 */
import { DEFAULT_PROXY_TIMEOUT_MS } from '../defaults.js';
import { InvalidArgumentError } from '../errors.js';
import { TrustedProxies } from '../policy/trusted-proxies.js';
import type { ProxyProtocolOptions } from '../transport/proxy-protocol.js';
import { parseSeconds } from './arguments.js';
import { CliError } from './program.js';

/** The parseArgs specs of the PROXY protocol options. */
export const PROXY_OPTIONS = {
  'proxy-protocol': { type: 'boolean' },
  'trusted-proxy': { type: 'string', multiple: true },
  'proxy-timeout': { type: 'string' },
} as const;

/** The help lines of the PROXY protocol options. */
export const PROXY_HELP = `  --proxy-protocol        every connection starts with a PROXY header (v1 or v2; HAProxy, nginx)
  --trusted-proxy CIDR    a proxy whose headers are believed (repeatable; needed with
                          --proxy-protocol), e.g. 127.0.0.1/32, 10.0.0.0/8, fd00::/8
  --proxy-timeout SECS    how long a PROXY header may take                 [default: ${DEFAULT_PROXY_TIMEOUT_MS / 1000}]
`;

/** The values of {@link PROXY_OPTIONS} as parsed. */
export interface ProxyValues {
  'proxy-protocol'?: boolean;
  'trusted-proxy'?: string[];
  'proxy-timeout'?: string;
}

/** The PROXY stage's options from the command line, or undefined without `--proxy-protocol`. */
export function parseProxyOptions(
  program: string,
  values: ProxyValues,
  { unix = false }: { unix?: boolean } = {},
): ProxyProtocolOptions | undefined {
  const cidrs = values['trusted-proxy'] ?? [];
  if (!values['proxy-protocol']) {
    const stray =
      cidrs.length > 0
        ? '--trusted-proxy'
        : values['proxy-timeout'] !== undefined
          ? '--proxy-timeout'
          : undefined;
    if (stray !== undefined) throw new CliError(`${program}: ${stray} applies only with --proxy-protocol`);
    return undefined;
  }
  // On a Unix socket, whoever may connect (the file's mode) is the proxy: no address to trust.
  if (unix && cidrs.length > 0) {
    throw new CliError(
      `${program}: --trusted-proxy does not apply to --unix (its peers have no address; the socket file's mode decides who may connect)`,
    );
  }
  if (cidrs.length === 0 && !unix) {
    throw new CliError(
      `${program}: --proxy-protocol needs --trusted-proxy CIDR: the proxies whose headers are believed (e.g. --trusted-proxy 127.0.0.1/32)`,
    );
  }
  let trusted: TrustedProxies;
  try {
    trusted = new TrustedProxies(cidrs);
  } catch (error) {
    if (error instanceof InvalidArgumentError)
      throw new CliError(`${program}: --trusted-proxy: ${error.message}`);
    throw error;
  }
  const timeout =
    values['proxy-timeout'] === undefined
      ? undefined
      : parseSeconds(values['proxy-timeout'], '--proxy-timeout', program);
  return { trusted, ...(timeout === undefined ? {} : { timeout }) };
}
