/**
 * The TLS options of the programs, kept apart from their other options: `--tls`, the server's
 * `--cert`, `--key`, `--cert-out`, the client's `--ca`, `--servername`, `--insecure`, and
 * `--handshake-timeout` on both. Parsing only: the library does the TLS.
 */
import cluster from 'node:cluster';
import { readFileSync, writeFileSync } from 'node:fs';
import type { LoadTls } from '../bench/load-plan.js';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  SELF_SIGNED_DNS_NAMES,
  SELF_SIGNED_IP_ADDRESSES,
} from '../defaults.js';
import { InvalidArgumentError, type TlsHandshakeError } from '../errors.js';
import {
  createSelfSignedCredentials,
  credentialsFromPem,
  type ServerCredentials,
} from '../transport/tls-certificate.js';
import {
  defaultServername,
  type TlsClientOptions,
  validateTlsClientOptions,
} from '../transport/tls-client.js';
import { TlsServerStage } from '../transport/tls-server.js';
import { MAX_SECONDS } from './arguments.js';
import { writeStderr } from './output.js';
import { CliError } from './program.js';

/** The parseArgs specs of the server's TLS options. */
export const TLS_SERVER_OPTIONS = {
  tls: { type: 'boolean' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'cert-out': { type: 'string' },
  'handshake-timeout': { type: 'string' },
} as const;

/** The parseArgs specs of the client's TLS options. */
export const TLS_CLIENT_OPTIONS = {
  tls: { type: 'boolean' },
  ca: { type: 'string' },
  servername: { type: 'string' },
  insecure: { type: 'boolean' },
  'handshake-timeout': { type: 'string' },
} as const;

const TIMEOUT_HELP = `  --handshake-timeout T   TLS: most time a handshake may take (SECS, or
                          with a unit: 500ms, 5s)                          [default: ${DEFAULT_HANDSHAKE_TIMEOUT_MS / 1000}]
`;

/** The server's help lines for its TLS options (see docs/tls.md). */
export const TLS_SERVER_HELP = `  --tls                   speak TLS (see docs/tls.md); without --cert/--key,
                          a self-signed certificate for ${[...SELF_SIGNED_DNS_NAMES, ...SELF_SIGNED_IP_ADDRESSES].join(', ')}
                          is made at start-up, its SHA-256 fingerprint on stderr
  --cert FILE, --key FILE TLS: the certificate (chain) and key, PEM
  --cert-out FILE         TLS: write the certificate in use (PEM) to FILE,
                          for a client's --ca
${TIMEOUT_HELP}`;

/** The client's help lines for its TLS options (see docs/tls.md). */
export const TLS_CLIENT_HELP = `  --tls                   speak TLS, verifying the server's certificate (see docs/tls.md)
  --ca FILE               TLS: trust these CA certificates (PEM) instead of Node's
  --servername NAME       TLS: SNI and the name to verify    [default: <IP> when a name]
  --insecure              TLS: do not verify; print the fingerprint accepted
${TIMEOUT_HELP}`;

/** Parses `--handshake-timeout`: seconds as every duration option, or with a unit (`500ms`, `5s`), into ms. */
export function parseHandshakeTimeout(text: string, program: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s)?$/.exec(text);
  const value = match === null ? Number.NaN : Number(match[1]);
  const ms = match?.[2] === 'ms' ? value : value * 1000;
  if (!(ms >= 1) || ms > MAX_SECONDS * 1000) {
    throw new CliError(
      `${program}: invalid --handshake-timeout '${text}': expected seconds (5, 0.5) or a time with a unit (500ms, 5s), from 1ms to ${MAX_SECONDS}s`,
    );
  }
  return Math.round(ms);
}

/** The values of {@link TLS_SERVER_OPTIONS} as parsed. */
export interface TlsServerValues {
  tls?: boolean;
  cert?: string;
  key?: string;
  'cert-out'?: string;
  'handshake-timeout'?: string;
}

/** The server's TLS settings, once parsed and the certificate read or made. */
export interface TlsServerChoice {
  credentials: ServerCredentials;
  /** True when the certificate was made at start-up. */
  selfSigned: boolean;
  handshakeTimeout: number | undefined;
}

// A self-signed certificate is made once, by the first process: --workers' processes (started with
// this environment) serve the same one, so that the fingerprint printed holds for all of them. Only
// a cluster worker takes it from there (a server started by hand always makes its own, whatever its
// environment holds), and it removes it at once, so that nothing it starts inherits the key.
const SELF_SIGNED_VARIABLE = 'SOCKET_STEPS_TLS_SELF_SIGNED';

/**
 * Parses the server's TLS options: undefined without `--tls` (and then no other TLS option may be
 * given). Reads `--cert`/`--key`, or makes a self-signed certificate; writes `--cert-out`.
 */
export function parseTlsServerValues(program: string, values: TlsServerValues): TlsServerChoice | undefined {
  if (!values.tls) {
    const stray = (['cert', 'key', 'cert-out', 'handshake-timeout'] as const).find(
      (o) => values[o] !== undefined,
    );
    if (stray !== undefined) throw new CliError(`${program}: --${stray} applies to --tls`);
    return undefined;
  }
  if ((values.cert === undefined) !== (values.key === undefined)) {
    throw new CliError(`${program}: --cert and --key go together`);
  }
  const handshakeTimeout =
    values['handshake-timeout'] === undefined
      ? undefined
      : parseHandshakeTimeout(values['handshake-timeout'], program);
  let credentials: ServerCredentials;
  let selfSigned = false;
  if (values.cert !== undefined && values.key !== undefined) {
    const cert = readPem(program, '--cert', values.cert);
    const key = readPem(program, '--key', values.key);
    try {
      credentials = credentialsFromPem(cert, key);
    } catch (error) {
      if (error instanceof InvalidArgumentError)
        throw new CliError(`${program}: --cert/--key: ${error.message}`);
      throw error;
    }
  } else {
    selfSigned = true;
    credentials = inheritedSelfSigned() ?? createSelfSignedCredentials();
    if (!cluster.isWorker) {
      process.env[SELF_SIGNED_VARIABLE] = JSON.stringify({ cert: credentials.cert, key: credentials.key });
    }
  }
  const out = values['cert-out'];
  if (out !== undefined) {
    try {
      writeFileSync(out, credentials.cert, { mode: 0o644 });
    } catch (error) {
      throw new CliError(`${program}: cannot write --cert-out '${out}': ${(error as Error).message}`);
    }
  }
  return { credentials, selfSigned, handshakeTimeout };
}

function inheritedSelfSigned(): ServerCredentials | undefined {
  if (!cluster.isWorker) return undefined;
  const text = process.env[SELF_SIGNED_VARIABLE];
  delete process.env[SELF_SIGNED_VARIABLE];
  if (text === undefined) return undefined;
  try {
    const { cert, key } = JSON.parse(text) as { cert: string; key: string };
    return credentialsFromPem(cert, key);
  } catch {
    return undefined;
  }
}

/** The line the server prints on stderr once listening with TLS. */
export function tlsServerLine(program: string, choice: TlsServerChoice): string {
  const what = choice.selfSigned
    ? `self-signed certificate for ${[...SELF_SIGNED_DNS_NAMES, ...SELF_SIGNED_IP_ADDRESSES].join(', ')}`
    : 'certificate';
  return `${program}: TLS ${what}, SHA-256 fingerprint ${choice.credentials.fingerprint}\n`;
}

/** The line a server prints for a failed handshake: who, and why. */
export function tlsFailureLine(program: string, who: string, error: TlsHandshakeError): string {
  return `${program}: TLS handshake with ${who} failed: ${error.message}\n`;
}

/** Most lines a second a server prints for failed handshakes. */
export const FAILURE_LINES_PER_SECOND = 10;

/**
 * The server's TLS stage for one server (each worker has its own, with its own counts). A failed
 * handshake is one line on stderr naming the client and the reason.
 */
export function createTlsStage(program: string, choice: TlsServerChoice): TlsServerStage {
  // A port scanner or a flood of plaintext clients must not turn stderr into the bottleneck: at
  // most FAILURE_LINES_PER_SECOND lines a second; the ones left out are counted in the next line
  // (and always in --metrics and SIGUSR1's stats).
  let windowStart = 0;
  let shown = 0;
  let hidden = 0;
  return new TlsServerStage({
    credentials: choice.credentials,
    handshakeTimeout: choice.handshakeTimeout,
    onFailure: (connection, error) => {
      const now = Date.now();
      if (now - windowStart >= 1000) {
        windowStart = now;
        shown = 0;
      }
      if (shown >= FAILURE_LINES_PER_SECOND) {
        hidden++;
        return;
      }
      shown++;
      if (hidden > 0) {
        writeStderr(
          `${program}: ${hidden} more TLS handshakes failed (lines left out: at most ${FAILURE_LINES_PER_SECOND} a second)\n`,
        );
        hidden = 0;
      }
      const remote = connection.remote;
      const who =
        remote === undefined
          ? `client #${connection.id}`
          : remote.family === 'IPv6'
            ? `[${remote.address}]:${remote.port}`
            : `${remote.address}:${remote.port}`;
      writeStderr(tlsFailureLine(program, who, error));
    },
  });
}

/** The values of {@link TLS_CLIENT_OPTIONS} as parsed. */
export interface TlsClientValues {
  tls?: boolean;
  ca?: string;
  servername?: string;
  insecure?: boolean;
  'handshake-timeout'?: string;
}

/** Parses the client's TLS options: undefined without `--tls`. */
export function parseTlsClientValues(program: string, values: TlsClientValues): TlsClientOptions | undefined {
  if (!values.tls) {
    const stray = (['ca', 'servername', 'insecure', 'handshake-timeout'] as const).find(
      (o) => values[o] !== undefined,
    );
    if (stray !== undefined) throw new CliError(`${program}: --${stray} applies to --tls`);
    return undefined;
  }
  if (values.insecure && values.ca !== undefined) {
    throw new CliError(`${program}: --ca and --insecure contradict each other`);
  }
  const options: TlsClientOptions = {};
  if (values.ca !== undefined) options.ca = readPem(program, '--ca', values.ca);
  if (values.servername !== undefined) options.servername = values.servername;
  if (values.insecure) options.insecure = true;
  if (values['handshake-timeout'] !== undefined) {
    options.handshakeTimeout = parseHandshakeTimeout(values['handshake-timeout'], program);
  }
  try {
    validateTlsClientOptions(options);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new CliError(`${program}: ${error.message}`);
    throw error;
  }
  return options;
}

/** The hint after a failed verification, naming the options that help. */
export function verificationHint(reason: string): string {
  if (reason === 'self-signed' || reason === 'unknown-issuer') {
    return ' (trust it with --ca FILE, or skip the check with --insecure)';
  }
  if (reason === 'wrong-name') return ' (--servername NAME names another)';
  return '';
}

function readPem(program: string, option: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`${program}: cannot read ${option} '${path}': ${(error as Error).message}`);
  }
}

/** The parseArgs specs of hbench's TLS options: the client's, with `--tls-resume` and no handshake timeout of its own. */
export const TLS_BENCH_OPTIONS = {
  tls: { type: 'boolean' },
  ca: { type: 'string' },
  servername: { type: 'string' },
  insecure: { type: 'boolean' },
  'tls-resume': { type: 'boolean' },
} as const;

/** hbench's help lines for its TLS options. */
export const TLS_BENCH_HELP = `  --tls                   speak TLS; report handshakes/s and the handshake's own latency
  --ca FILE, --servername NAME, --insecure
                          TLS: as for hclient (see docs/tls.md)
  --tls-resume            TLS: offer each connection the last session's ticket (resumption)
`;

/** hbench's TLS settings: undefined without `--tls`. */
export function parseTlsBenchValues(
  program: string,
  values: Omit<TlsClientValues, 'handshake-timeout'> & { 'tls-resume'?: boolean },
  host: string | undefined,
): LoadTls | undefined {
  if (!values.tls && values['tls-resume']) throw new CliError(`${program}: --tls-resume applies to --tls`);
  const options = parseTlsClientValues(program, values);
  if (options === undefined) return undefined;
  const servername = options.servername ?? defaultServername(host);
  return {
    ...(servername === undefined ? {} : { servername }),
    ...(options.ca === undefined
      ? {}
      : { ca: typeof options.ca === 'string' ? [options.ca] : [...options.ca] }),
    insecure: options.insecure === true,
    resume: values['tls-resume'] === true,
  };
}
