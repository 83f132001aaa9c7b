/**
 * Every default of the library in one place. Durations are in milliseconds.
 */

/** The seed server's message. */
export const DEFAULT_HELLO_MESSAGE = 'Hello World!';

/** The seed server binds INADDR_ANY. */
export const DEFAULT_SERVER_HOST = '0.0.0.0';

/**
 * Listen backlog: how many connections the kernel completes before we accept them. The seed uses 5,
 * which under load leaves clients "connected" to sockets the server never accepts (with SYN
 * cookies, a handshake completed while the queue is full is dropped on the server's side only:
 * the client waits for ever). Node's default of 511 still does that to thousands of clients when
 * 10,000 arrive at once (measured: docs/programs.md, Differences from the C programs); 4096 does
 * not, and is Linux's default cap (net.core.somaxconn since 5.4): a larger value is cut down to
 * that cap by the kernel anyway.
 * `--backlog 5` is the seed's.
 */
export const DEFAULT_BACKLOG = 4096;

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

/**
 * greet: how long the whole dialogue may take, however often the client sends a byte. Two lines
 * typed by hand take seconds; a slowloris client sending a byte every 29 s is cut off here.
 */
export const DEFAULT_DIALOGUE_TIMEOUT_MS = 120_000;

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

/**
 * The largest UDP payload over IPv4: 65535 (IP total length) - 20 (IP header) - 8 (UDP header).
 * The textbook's limit for one datagram; a larger message is refused before anything is sent.
 */
export const MAX_UDP_PAYLOAD_IPV4 = 65_507;

/** The largest UDP payload over IPv6 without jumbograms: 65535 (payload length) - 8 (UDP header). */
export const MAX_UDP_PAYLOAD_IPV6 = 65_527;

/** How long the UDP client waits for each reply before sending the request again. */
export const DEFAULT_UDP_TIMEOUT_MS = 1_000;

/**
 * How many times the UDP client sends a request again after a timeout (so 1 + 3 attempts in all).
 * Loss on a LAN or loopback is rare; three retries ride out a burst of it without making a person
 * wait long (4 s with the default timeout) when the server is simply gone.
 */
export const DEFAULT_UDP_RETRIES = 3;

/**
 * Reflection rate limit of the UDP server: replies per second per source address (token refill).
 * A person at `uclient` sends a few datagrams per second at most and a test some tens in a burst,
 * so 50/s never gets in their way; a spoofed flood gets 50 small replies/s per victim address
 * instead of one per datagram. See docs/udp.md for the reasoning.
 */
export const DEFAULT_UDP_REPLY_RATE = 50;

/**
 * Reflection rate limit: the bucket size, i.e. how many replies one source may get back to back
 * before the per-second rate applies (a pasted block of lines, a test's burst).
 */
export const DEFAULT_UDP_REPLY_BURST = 100;

/**
 * How many source addresses the rate limiter tracks at once. Past it, the source heard from least
 * recently is forgotten (it gets a full bucket if it comes back), so memory stays bounded under a
 * flood of spoofed sources: about 100 bytes per entry, ~1 MB in all.
 */
export const DEFAULT_UDP_RATE_LIMIT_SOURCES = 10_000;

/**
 * The UDP loop guard (src/policy/loop-guard.ts), which `--no-rate-limit` leaves on: a datagram
 * from a source that carries back, within this many ms, exactly what we last sent it is a bounce.
 * A loop between two servers bounces in well under a millisecond on one machine, a few on a LAN.
 */
export const DEFAULT_UDP_BOUNCE_WINDOW_MS = 50;

/**
 * Bounces in a row from one source, the last of which is not answered: that ends a loop (nothing
 * else is in flight), and costs a client that does send the same message straight back one
 * datagram in 17, which its retry recovers.
 */
export const DEFAULT_UDP_MAX_BOUNCES = 16;

/** hbench: how long a run starts connections when neither -n nor -d is given. */
export const DEFAULT_LOAD_DURATION_MS = 5_000;

/** hbench / runLoad: bound on one whole exchange. */
export const DEFAULT_LOAD_TIMEOUT_MS = 5_000;

/** hbench / runLoad: how often progress is reported (and timeouts are swept). */
export const DEFAULT_PROGRESS_INTERVAL_MS = 250;

/** --workers: workers that may die and be replaced within the restart window before giving up. */
export const DEFAULT_MAX_WORKER_RESTARTS = 5;

/** --workers: the window in which worker restarts are counted. */
export const DEFAULT_WORKER_RESTART_WINDOW_MS = 10_000;

/** --workers: the most workers one supervisor runs. */
export const MAX_WORKERS = 64;

/** How often (ms) a `--workers` supervisor asks each worker whether it still answers. */
export const DEFAULT_WORKER_HEARTBEAT_INTERVAL_MS = 1000;

/**
 * A worker that has answered nothing for this long (ms) is taken as hung (stopped, or its event
 * loop stuck) and is killed with SIGKILL and replaced: its socket would keep taking its share of
 * new clients and serve none. Long enough for a busy worker's event loop; short for a client.
 */
export const DEFAULT_WORKER_HEARTBEAT_TIMEOUT_MS = 3000;

/**
 * PROXY protocol v2: the largest length a header may announce (the header is 16 + this many bytes).
 * HAProxy 2.6's largest header, with every TLV it can add (SSL details, a 255-byte authority, a
 * 128-byte unique id), is about 600 bytes; the spec allows 65,535. A connection holds at most this
 * many bytes before its header is complete, so the bound is also the memory a slow or hostile
 * peer can make one connection pin while the header arrives.
 */
export const DEFAULT_PROXY_V2_MAX_LENGTH = 2048;

/**
 * With the PROXY protocol: how long a connection may take to send its header before it is
 * closed. A proxy sends it at once; the spec asks receivers to wait at least 3 s.
 */
export const DEFAULT_PROXY_TIMEOUT_MS = 3_000;

/**
 * Where the HTTP ports of `--metrics PORT` and `--view PORT` listen when no host is given:
 * loopback, so that nothing is exposed beyond this machine unless asked for with a host.
 */
export const DEFAULT_HTTP_HOST = '127.0.0.1';

/**
 * Descriptors a TCP server leaves free for the rest of the process: connections past the limit
 * less this are refused visibly (EMFILE) instead of being dropped silently by libuv.
 */
export const DEFAULT_DESCRIPTOR_RESERVE = 32;

/** Most characters of a trace event's text preview (greet's lines, echo's bytes in the live view). */
export const TRACE_TEXT_MAX = 200;

/** The live view: the most page streams (`/events`) open at once; one more gets 503. */
export const VIEW_MAX_STREAMS = 32;

/**
 * The live view: the most HTTP connections open at once, streams included (the pages' streams and
 * 16 more for their requests); past it the connection idle longest is closed, or when every one is
 * busy, the next is dropped. The view's own bound: it never takes the service's connections.
 */
export const VIEW_MAX_HTTP_CONNECTIONS = VIEW_MAX_STREAMS + 16;

/**
 * The live view: a page stream whose client has taken nothing of what waits for it for this long
 * (its writes backed up, no byte of them taken) is closed, so that it does not hold its place.
 */
export const VIEW_STREAM_STALL_MS = 10_000;

/** `--metrics`: the most HTTP connections open at once (a scraper needs one). */
export const METRICS_MAX_CONNECTIONS = 8;

/**
 * The HTTP listeners (the view's, the metrics'): how long a connection may take to send a whole
 * request head, from connecting or from its last answer, before it is closed. Any client sends
 * one at once; a connection that sends nothing, or a byte now and then, must not hold a place.
 */
export const HTTP_HEADERS_TIMEOUT_MS = 5_000;

/** The live view: the most updates a second sent to each page (they are coalesced). */
export const VIEW_MAX_UPDATES_PER_SECOND = 10;

/**
 * The live view: above this many accepted connections a second, the server is busy and the view
 * slows its own work down (see {@link VIEW_BUSY_UPDATES_PER_SECOND} and
 * {@link VIEW_BUSY_KERNEL_READS_PER_SECOND}): a page cannot follow thousands of connections a
 * second anyway, and what it costs is taken from the server.
 */
export const VIEW_BUSY_ACCEPTS_PER_SECOND = 200;

/** The live view: the most updates a second sent to each page while the server is busy. */
export const VIEW_BUSY_UPDATES_PER_SECOND = 4;

/** The live view: the most kernel reads a second while the server is busy. */
export const VIEW_BUSY_KERNEL_READS_PER_SECOND = 1;

/** The live view: connections sent in one update at most (a sample of those that changed). */
export const VIEW_UPDATE_SAMPLE = 24;

/** The live view: how often an idle page stream gets a `: ping` comment. */
export const VIEW_HEARTBEAT_MS = 15_000;

/** The live view: the most reads of the kernel's sockets (`ss`, or /proc/net/tcp{,6}) a second. */
export const VIEW_KERNEL_READS_PER_SECOND = 5;

/**
 * The live view: a read of /proc/net/tcp{,6} starts no sooner than this many times the recent
 * reads' duration after the last one began, so that reading takes at most 1/20 of the time.
 */
export const VIEW_KERNEL_READ_SPACING = 20;

/**
 * The live view: the same for reads through `ss`, whose wall time is mostly its own start
 * (fork and exec) and the kernel's walk of its table: at most a tenth of the time, and never more
 * than 5 reads a second.
 */
export const VIEW_KERNEL_SS_READ_SPACING = 10;

/** The live view: ms a run of `ss` may take before it is killed (that read comes from /proc). */
export const VIEW_KERNEL_SS_TIMEOUT_MS = 1_000;

/**
 * The live view: connections looked for in one read of the kernel's sockets at most. The kernel
 * checks an `ss` filter's jumps in time that grows with the square of its length (300
 * connections: about 6 ms of system time per address family, whatever the table holds; 64: well
 * under 1 ms); the view asks first for those that are changing, then those read longest ago.
 */
export const VIEW_KERNEL_MAX_CONNECTIONS_PER_READ = 64;

/**
 * The live view: with a page open, how often connections that are open and ESTABLISHED at both
 * ends are read again (their peer may close without the server's trace saying so). Connections
 * that are closing are read at the full rate.
 */
export const VIEW_KERNEL_OPEN_RECHECK_MS = 1_000;

/**
 * The live view: how often connections that only wait for TIME_WAIT to end (60 s on Linux) are
 * read again, to show `gone` when it has.
 */
export const VIEW_KERNEL_WAITING_RECHECK_MS = 2_000;

/**
 * The live view: the longest a caller waits for the pace to allow a new kernel read, when there is
 * a reading already: past it, the last reading is the answer (its age says how old it is), so that
 * `/state` never hangs on a slow table (a /proc read of 50,000 rows on a busy machine spaces the
 * next one seconds away).
 */
export const VIEW_KERNEL_MAX_WAIT_MS = 1_000;

/** The live view: the oldest kernel reading `/state` answers with. */
export const VIEW_KERNEL_MAX_AGE_MS = 200;

/**
 * The live view: `/state` is built at most once in this many ms, however many ask; every answer
 * in between is the same JSON.
 */
export const VIEW_SNAPSHOT_INTERVAL_MS = 200;

/** The live view: connections kept (the newest). */
export const VIEW_MAX_CONNECTIONS = 300;

/** The live view: items kept in one connection's sequence diagram. */
export const VIEW_MAX_EVENTS = 48;

/** The live view: the page's buttons may run this many clients at once (they are for clicks, not load). */
export const VIEW_MAX_RUNNING_CLIENTS = 4;

/** The live view: how long a client run from the page may take for each step. */
export const VIEW_CLIENT_TIMEOUT_MS = 3_000;

/** The live view: how often the service's stats are read while a page is open. */
export const VIEW_STATS_INTERVAL_MS = 500;

/**
 * `--hex`: past this many bytes waiting in its output, a new block is dropped and counted instead
 * (datagrams, which cannot be held back, and writes of services that do not read, such as hello).
 */
export const HEX_DROP_BYTES = 4 * 1024 * 1024;

/** The live view: bytes of each connection's dump kept each way (its first bytes). */
export const VIEW_HEX_BYTES = 4 * 1024;

/**
 * TLS: how long a handshake may take, in ms, on both sides. A peer that never completes it holds
 * its socket no longer (Node's own default is 120 s).
 */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** TLS: the names a self-signed certificate made at start-up is for. */
export const SELF_SIGNED_DNS_NAMES: readonly string[] = ['localhost'];

/** TLS: the addresses a self-signed certificate made at start-up is for. */
export const SELF_SIGNED_IP_ADDRESSES: readonly string[] = ['127.0.0.1', '::1'];

/** TLS: how long a self-signed certificate made at start-up is valid, in days. */
export const SELF_SIGNED_VALIDITY_DAYS = 365;
