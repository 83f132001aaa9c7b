/**
 * The stats snapshot in Prometheus' text exposition format (version 0.0.4): pure, from snapshots
 * to text. Names follow Prometheus' conventions: a `socket_steps_` prefix, `_total` on counters,
 * bytes and seconds as base units. With several workers the totals are their sum, and a few
 * figures are also given per worker, with a `worker` label (its pid).
 */
import { TlsFailure } from '../errors.js';
import { isPeakOutcome, type ServerStats } from '../transport/stats.js';

/** The content type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The reasons a server's TLS handshake fails, always exported (0 until one happens). */
export const TLS_SERVER_FAILURE_REASONS = [
  TlsFailure.NotTls,
  TlsFailure.Timeout,
  TlsFailure.Closed,
  TlsFailure.Protocol,
] as const;

/** Why a PROXY header was refused, as the PROXY stage counts them: each is always reported. */
export const PROXY_REFUSAL_REASONS = [
  'untrusted',
  'timeout',
  'incomplete',
  'wrong-family',
  'not-proxy',
  'v1-too-long',
  'v1-malformed',
  'v1-bad-address',
  'v1-bad-port',
  'v2-bad-version',
  'v2-bad-command',
  'v2-bad-family',
  'v2-too-long',
  'v2-length',
  'v2-tlv',
  'v2-crc32c',
] as const;

/** What {@link formatMetrics} reports on. */
export interface MetricsInput {
  /** The program (`hserver`, `userver`), in the info metric. */
  program: string;
  /** Our version, in the info metric. */
  version: string;
  /** When the process started, in seconds since the epoch. */
  startTime: number;
  /** The server's totals (with workers: their sum). */
  total: ServerStats;
  /** With `--workers`: each worker's own snapshot, with its pid in `worker`. */
  workers?: readonly ServerStats[];
}

type Labels = Record<string, string>;

/** One metric family: its help, its type and its samples. */
class Family {
  readonly #lines: string[];

  constructor(name: string, type: 'counter' | 'gauge', help: string) {
    this.name = name;
    this.#lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  }

  readonly name: string;

  sample(value: number, labels: Labels = {}): this {
    const entries = Object.entries(labels);
    const text =
      entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
    this.#lines.push(`${this.name}${text} ${formatValue(value)}`);
    return this;
  }

  toString(): string {
    return this.#lines.join('\n');
  }
}

/** The exposition of `input`, ending with a newline. */
export function formatMetrics(input: MetricsInput): string {
  const { total } = input;
  const families: Family[] = [];
  const family = (name: string, type: 'counter' | 'gauge', help: string) => {
    const f = new Family(`socket_steps_${name}`, type, help);
    families.push(f);
    return f;
  };

  family(
    'info',
    'gauge',
    "Always 1: the program, its version, the Node.js version and the service (and a Unix socket's path as listener).",
  ).sample(1, {
    program: input.program,
    version: input.version,
    node: process.versions.node,
    transport: total.transport,
    service: total.service,
    ...(total.listener === undefined ? {} : { listener: total.listener }),
  });
  const start = new Family(
    'process_start_time_seconds',
    'gauge',
    'Start time of the process since the Unix epoch, in seconds.',
  );
  start.sample(input.startTime);
  families.push(start);

  if (total.transport === 'tcp') {
    family(
      'connections_accepted_total',
      'counter',
      'Client connections accepted (health checks not included).',
    ).sample(total.accepted);
    family(
      'connections_refused_total',
      'counter',
      'Connections refused because --max-connections were open.',
    ).sample(total.refused);
    family('connections_open', 'gauge', 'Connections open now.').sample(total.open);
    family(
      'health_checks_total',
      'counter',
      'Connections a proxy opened for itself (PROXY protocol health checks).',
    ).sample(total.healthChecks);
  } else {
    family('datagrams_received_total', 'counter', 'Datagrams received.').sample(total.accepted);
    family('replies_total', 'counter', 'Replies sent.').sample(total.outcomes.replied ?? 0);
    family(
      'replies_rate_limited_total',
      'counter',
      'Replies not sent: over the rate limit of their source address.',
    ).sample(total.refused);
    family('replies_in_flight', 'gauge', 'Replies handed to the kernel and not yet sent.').sample(total.open);
    const loops = family(
      'replies_loop_dropped_total',
      'counter',
      "Replies not sent by the loop guard: to this process's own address, or to a source that kept sending our replies back.",
    );
    for (const reason of ['own-address', 'bounce'])
      loops.sample(total.outcomes[`loop:${reason}`] ?? 0, { reason });
  }

  const errors = family(
    'errors_total',
    'counter',
    total.transport === 'tcp'
      ? 'Connections that ended in an error, by code.'
      : 'Replies that failed, by code.',
  );
  for (const [code, n] of Object.entries(total.errors)) errors.sample(n, { code });

  family('received_bytes_total', 'counter', 'Bytes received from clients.').sample(total.bytesIn);
  family('sent_bytes_total', 'counter', 'Bytes sent to clients.').sample(total.bytesOut);
  family(
    'log_lines_dropped_total',
    'counter',
    'Log lines not written because stderr failed (a closed pipe, a full disk); serving went on.',
  ).sample(total.logLinesDropped ?? 0);

  if (total.transport === 'tcp') {
    const outcomes = family(
      'outcomes_total',
      'counter',
      "The service's own outcomes (greet: completed, malformed-greeting, ...).",
    );
    const peak = total.outcomes['peak-buffered-bytes'];
    for (const [outcome, n] of Object.entries(total.outcomes)) {
      if (!isPeakOutcome(outcome)) outcomes.sample(n, { outcome });
    }
    if (peak !== undefined) {
      family(
        'peak_buffered_bytes',
        'gauge',
        'The most bytes ever queued for one connection waiting for its client to read (echo, chargen; the largest over the workers).',
      ).sample(peak);
    }
  }

  const proxy = total.stages['proxy-protocol'];
  if (proxy !== undefined) {
    const headers = family('proxy_headers_total', 'counter', 'PROXY protocol headers read, by version.');
    for (const version of ['1', '2']) headers.sample(proxy[`v${version}`] ?? 0, { version });
    const failures = family(
      'proxy_header_failures_total',
      'counter',
      'Connections closed unserved for their PROXY header, by reason.',
    );
    const reasons = new Set<string>(PROXY_REFUSAL_REASONS);
    for (const key of Object.keys(proxy)) if (key.startsWith('refused:')) reasons.add(key.slice(8));
    for (const reason of reasons) failures.sample(proxy[`refused:${reason}`] ?? 0, { reason });
  }

  const tls = total.stages.tls;
  if (tls !== undefined) {
    family('tls_handshakes_total', 'counter', 'TLS handshakes completed.').sample(tls.handshakes ?? 0);
    family(
      'tls_resumed_handshakes_total',
      'counter',
      'TLS handshakes that resumed an earlier session (a ticket), of those completed.',
    ).sample(tls.resumed ?? 0);
    const failures = family(
      'tls_handshake_failures_total',
      'counter',
      'Connections closed unserved because their TLS handshake failed, by reason.',
    );
    const reasons = new Set<string>(TLS_SERVER_FAILURE_REASONS);
    for (const key of Object.keys(tls)) if (key.startsWith('failed:')) reasons.add(key.slice(7));
    for (const reason of reasons) failures.sample(tls[`failed:${reason}`] ?? 0, { reason });
  }

  if (input.workers !== undefined) {
    family('workers', 'gauge', 'Worker processes that answered for these figures.').sample(
      input.workers.length,
    );
    const accepted = family(
      total.transport === 'tcp' ? 'worker_connections_accepted_total' : 'worker_datagrams_received_total',
      'counter',
      total.transport === 'tcp'
        ? 'Client connections accepted, by worker (pid).'
        : 'Datagrams received, by worker (pid).',
    );
    for (const w of input.workers) accepted.sample(w.accepted, { worker: String(w.worker ?? 0) });
    if (total.transport === 'tcp') {
      const open = family('worker_connections_open', 'gauge', 'Connections open now, by worker (pid).');
      for (const w of input.workers) open.sample(w.open, { worker: String(w.worker ?? 0) });
    }
  }
  return `${families.join('\n')}\n`;
}

// Label values escape backslash, double quote and line feed.
function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}
