/**
 * Errors of the library. Every error has a stable string `code` to branch on (never the message)
 * and, when it comes from a system call, the original Node error as `cause` with its `errno`
 * code (`ECONNREFUSED`, `EADDRINUSE`, ...) copied to `systemCode`.
 */
/** The system call, in the lecture's words, during which an error happened. */
export type SocketCall =
  | 'socket'
  | 'bind'
  | 'listen'
  | 'accept'
  | 'connect'
  | 'read'
  | 'write'
  | 'close'
  | 'sendto'
  | 'recvfrom';

/** Options shared by every error constructor. */
export interface SocketStepsErrorOptions {
  /** The underlying error, usually a Node system error. */
  cause?: unknown;
  /** The lecture's system call during which it happened. */
  call?: SocketCall;
}

/** Base class of every error this library throws. */
export class SocketStepsError extends Error {
  /** A stable machine-readable code, e.g. `ERR_CONNECTION_REFUSED`. */
  readonly code: string = 'ERR_SOCKET_STEPS';
  /** The lecture's system call during which the error happened, when there is one. */
  readonly call: SocketCall | undefined;
  /** The Node/libuv error code of the cause (`ECONNREFUSED`, `EADDRINUSE`, ...), if any. */
  readonly systemCode: string | undefined;

  constructor(message: string, options: SocketStepsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.call = options.call;
    this.systemCode = systemCodeOf(options.cause);
  }
}

/** An option or argument has a value the library cannot use. */
export class InvalidArgumentError extends SocketStepsError {
  override readonly code = 'ERR_INVALID_ARG' as const;
}

/** A port is not an integer in the allowed range. */
export class InvalidPortError extends SocketStepsError {
  override readonly code = 'ERR_INVALID_PORT' as const;
}

/** bind() failed: the address is in use, not local, or not permitted. */
export class BindError extends SocketStepsError {
  override readonly code = 'ERR_BIND' as const;
}

/** listen() was called on a server that was already closed. */
export class ServerClosedError extends SocketStepsError {
  override readonly code = 'ERR_SERVER_CLOSED' as const;
}

/** A host name could not be resolved to an address. */
export class ResolveError extends SocketStepsError {
  override readonly code = 'ERR_RESOLVE' as const;
}

/** connect() was refused: nothing listens on that address and port. */
export class ConnectionRefusedError extends SocketStepsError {
  override readonly code = 'ERR_CONNECTION_REFUSED' as const;
}

/** connect() did not complete within the timeout. */
export class ConnectTimeoutError extends SocketStepsError {
  override readonly code = 'ERR_CONNECT_TIMEOUT' as const;
}

/** connect() failed for another reason (unreachable network, ...). */
export class ConnectError extends SocketStepsError {
  override readonly code = 'ERR_CONNECT' as const;
}

/** A peer sent and read nothing for the idle timeout, and was dropped (servers). */
export class IdleTimeoutError extends SocketStepsError {
  override readonly code = 'ERR_IDLE_TIMEOUT' as const;
}

/** No data arrived within the read timeout. */
export class ReadTimeoutError extends SocketStepsError {
  override readonly code = 'ERR_READ_TIMEOUT' as const;
  /**
   * What did arrive before the peer fell silent (empty when nothing did): a client can show it, as
   * the C client prints whatever its read() gave.
   */
  readonly received: Buffer;

  constructor(message: string, options: SocketStepsErrorOptions & { received?: Buffer } = {}) {
    super(message, options);
    this.received = options.received ?? Buffer.alloc(0);
  }
}

/** The peer closed the connection before sending anything. */
export class ClosedWithoutDataError extends SocketStepsError {
  override readonly code = 'ERR_CLOSED_WITHOUT_DATA' as const;
}

/** Reading failed (connection reset, ...). */
export class ReadError extends SocketStepsError {
  override readonly code = 'ERR_READ' as const;
}

/** Writing failed (connection reset, broken pipe, ...). */
export class WriteError extends SocketStepsError {
  override readonly code = 'ERR_WRITE' as const;
}

/** A line exceeded the configured length limit. */
export class LineTooLongError extends SocketStepsError {
  override readonly code = 'ERR_LINE_TOO_LONG' as const;
}

/** A message is larger than the transport can carry in one unit (e.g. one datagram). */
export class MessageTooLongError extends SocketStepsError {
  override readonly code = 'ERR_MESSAGE_TOO_LONG' as const;
}

/** A UDP peer answered with ICMP "port unreachable": nothing is bound to that port (ECONNREFUSED). */
export class PortUnreachableError extends SocketStepsError {
  override readonly code = 'ERR_PORT_UNREACHABLE' as const;
}

/** A UDP request got no reply after every retry (the datagrams or the replies were lost, or ignored). */
export class NoReplyError extends SocketStepsError {
  override readonly code = 'ERR_NO_REPLY' as const;
}

/** The operation was aborted through an AbortSignal. */
export class AbortError extends SocketStepsError {
  override readonly code = 'ERR_ABORTED' as const;
}

/** The peer broke the rules of the protocol spoken (a malformed or unexpected line). */
export class ProtocolError extends SocketStepsError {
  // Widened for the subclass that names one protocol's failures with a code of its own.
  override readonly code: 'ERR_PROTOCOL' | 'ERR_PROXY_HEADER' = 'ERR_PROTOCOL';
}

/** Why a PROXY header was refused: stable codes to count and branch on. */
export const ProxyHeaderFailure = {
  /** The first bytes are neither `PROXY ` nor the v2 signature. */
  NotProxy: 'not-proxy',
  /** v1: no CRLF within 107 bytes. */
  V1TooLong: 'v1-too-long',
  /** v1: wrong structure (protocol, spaces, fields, a lone CR or LF, a byte that is not printable ASCII). */
  V1Malformed: 'v1-malformed',
  /** v1: an address that is not a strict literal of the family named (TCP4: IPv4, TCP6: IPv6). */
  V1BadAddress: 'v1-bad-address',
  /** v1: a port that is not a decimal 0-65535 without leading zeros. */
  V1BadPort: 'v1-bad-port',
  /** v2: the version nibble is not 2. */
  V2BadVersion: 'v2-bad-version',
  /** v2: the command is neither LOCAL (0) nor PROXY (1). */
  V2BadCommand: 'v2-bad-command',
  /** v2: a PROXY header with a family/protocol byte the spec does not define. */
  V2BadFamily: 'v2-bad-family',
  /** v2: the length is over the receiver's bound (`maxV2Length`). */
  V2TooLong: 'v2-too-long',
  /** v2: the length is too short for the family's address block. */
  V2Length: 'v2-length',
  /** v2: a TLV that is cut, overruns the header, repeats a type that must be unique, or breaks its type's rules. */
  V2Tlv: 'v2-tlv',
  /** v2: the CRC32C TLV does not match the header. */
  V2Crc32c: 'v2-crc32c',
} as const;
/** Why a PROXY header was refused. */
export type ProxyHeaderFailure = (typeof ProxyHeaderFailure)[keyof typeof ProxyHeaderFailure];

/** Options of a {@link ProxyHeaderError}. */
export interface ProxyHeaderErrorOptions extends SocketStepsErrorOptions {
  /** Why the header was refused: a stable {@link ProxyHeaderFailure} code. */
  reason: ProxyHeaderFailure;
}

/**
 * A connection's PROXY protocol header was malformed, too long or failed its checksum. `reason`
 * says which, as a stable code to count (`'not-proxy'`, `'v1-malformed'`, `'v2-crc32c'`, ...).
 */
export class ProxyHeaderError extends ProtocolError {
  override readonly code = 'ERR_PROXY_HEADER' as const;
  /** Why the header was refused. */
  readonly reason: ProxyHeaderFailure;

  constructor(message: string, options: ProxyHeaderErrorOptions) {
    super(message, options);
    this.reason = options.reason;
  }
}

/**
 * A connection that had to start with a PROXY protocol header came from an address that is not a
 * trusted proxy: its header, which could name any client, is not read.
 */
export class UntrustedProxyError extends SocketStepsError {
  override readonly code = 'ERR_UNTRUSTED_PROXY' as const;
  /**
   * The server resets such a connection rather than closing it: nothing it sent is read, and a
   * close with unread bytes would be a reset or a clean close depending on whether they had
   * arrived yet. The peer always sees the same thing, at once.
   */
  readonly resetConnection = true;
}

/**
 * A chargen stream (RFC 864) departs from every pattern it could be: `offset` says where, in bytes
 * from the start of the stream or datagram.
 */
export class PatternMismatchError extends SocketStepsError {
  override readonly code = 'ERR_PATTERN_MISMATCH' as const;
  /** Bytes from the start of the stream (or datagram) to the first wrong byte. */
  readonly offset: number;

  constructor(message: string, options: SocketStepsErrorOptions & { offset: number }) {
    super(message, options);
    this.offset = options.offset;
  }
}

/** The peer closed the connection before the exchange was complete. */
export class ConnectionClosedError extends SocketStepsError {
  override readonly code = 'ERR_CONNECTION_CLOSED' as const;
}

/**
 * Why a TLS handshake failed: stable codes to count and branch on. The first four are what a
 * client's verification found wrong with the server's certificate.
 */
export const TlsFailure = {
  /** The certificate's validity ended (or has not begun). */
  Expired: 'expired',
  /** The certificate is not for the name or address asked for. */
  WrongName: 'wrong-name',
  /** The certificate signs itself and is not one we were told to trust (`--ca`). */
  SelfSigned: 'self-signed',
  /** The certificate's issuer is not a CA we trust. */
  UnknownIssuer: 'unknown-issuer',
  /** Another certificate problem (revoked, bad signature, wrong purpose, ...). */
  BadCertificate: 'bad-certificate',
  /** The peer's bytes were not TLS records: it speaks plain TCP. */
  NotTls: 'not-tls',
  /** The handshake did not complete within the handshake timeout. */
  Timeout: 'timeout',
  /** The peer closed or reset the connection during the handshake. */
  Closed: 'closed',
  /** The two sides agreed on no protocol version or cipher, or the peer sent an alert. */
  Protocol: 'protocol',
} as const;
/** Why a TLS handshake failed. */
export type TlsFailure = (typeof TlsFailure)[keyof typeof TlsFailure];

/** Options of a {@link TlsHandshakeError}. */
export interface TlsHandshakeErrorOptions extends SocketStepsErrorOptions {
  /** Why the handshake failed: a stable {@link TlsFailure} code. */
  reason: TlsFailure;
}

/** A TLS handshake failed; `reason` says why (`'expired'`, `'wrong-name'`, `'not-tls'`, ...). */
export class TlsHandshakeError extends SocketStepsError {
  override readonly code = 'ERR_TLS_HANDSHAKE' as const;
  /** Why the handshake failed. */
  readonly reason: TlsFailure;

  constructor(message: string, options: TlsHandshakeErrorOptions) {
    super(message, options);
    this.reason = options.reason;
  }
}

/** Returns the Node/libuv `code` of an error-like value (`ECONNREFUSED`, ...), if it has one. */
export function systemCodeOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const { code } = error as { code: unknown };
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** A short human reason for a system error: `ECONNREFUSED (connection refused)`. */
export function describeSystemError(error: unknown): string {
  const code = systemCodeOf(error);
  const reason = code === undefined ? undefined : SYSTEM_REASONS[code];
  if (code !== undefined && reason !== undefined) return `${reason} (${code})`;
  if (error instanceof Error) return error.message;
  return String(error);
}

const SYSTEM_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this machine',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'broken pipe',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'temporary failure in name resolution',
  EAFNOSUPPORT: 'address family not supported',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EMSGSIZE: 'message too long',
  EINVAL: 'invalid argument',
  ENOSPC: 'no space left on device',
  EIO: 'input/output error',
  EBADF: 'bad file descriptor',
  ENOENT: 'no such file or directory',
  ENOTSOCK: 'not a socket',
  ENAMETOOLONG: 'file name too long',
};
