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

/** Most bytes in one line of a line protocol (greet), without its `\n`: bounds memory per client. */
export const DEFAULT_MAX_LINE_BYTES = 1024;

/** Most characters (Unicode code points) in a greet name. */
export const DEFAULT_MAX_NAME_LENGTH = 64;

/** The greet client's name: the lecture's client, Bob. */
export const DEFAULT_CLIENT_NAME = 'Bob';

/** The greet server's name: the lecture's server, Jane. */
export const DEFAULT_SERVER_NAME = 'Jane';

/**
 * The echo server's write buffer bound: past this many queued bytes on a connection it stops
 * reading from that client until the queue drains (backpressure).
 */
export const DEFAULT_ECHO_HIGH_WATER_MARK = 64 * 1024;
