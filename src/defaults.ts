/**
 * Every default of the library in one place. Durations are in milliseconds.
 */

/** The seed server's message. */
export const DEFAULT_HELLO_MESSAGE = 'Hello World!';

/** The seed server binds INADDR_ANY. */
export const DEFAULT_SERVER_HOST = '0.0.0.0';

/**
 * Listen backlog. The seed uses 5, which under load leaves clients "connected" to sockets the
 * server never accepts (see README); 511 is Node's and nginx's default. `--backlog 5` is the seed's.
 */
export const DEFAULT_BACKLOG = 511;

/** The seed's backlog, for reference and for `--backlog 5`. */
export const SEED_BACKLOG = 5;

/** How long a client waits for connect() and then for each read before giving up. */
export const DEFAULT_CLIENT_TIMEOUT_MS = 5_000;

/**
 * How many bytes the hello client reads at most while looking for the NUL. The C client reads
 * at most 29; ours keeps reading across segments, up to this bound, so memory stays bounded.
 */
export const DEFAULT_HELLO_MAX_BYTES = 64 * 1024;

/** On close(), how long connections in flight may take to finish before they are destroyed. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/** How long a server keeps a connection that sends or reads nothing (services that read). */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
