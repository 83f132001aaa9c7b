/**
 * socket-steps: the lecture's socket programs as a typed library.
 *
 * - Services: {@link createHelloServer} / {@link fetchHello} (the seed's hello programs).
 * - Transports: {@link TcpServer}, {@link connectTcp} (they own the sockets; any service runs on them).
 * - Protocols: {@link encodeHello}, {@link HelloDecoder} (pure, bytes in and out).
 * - Trace: {@link subscribeTrace} and {@link TRACE_CHANNELS} (`node:diagnostics_channel`),
 *   {@link formatTraceEvent} for English or Korean lines.
 * - PROXY protocol: {@link ProxyHeaderParser} / {@link proxyHeaderPrefix} (v1 and v2 headers, pure) and
 *   {@link TrustedProxies} (whom to believe them from).
 * - TLS: {@link TlsServerStage} (a server's pipeline stage), {@link startTls} / `tls` of
 *   {@link connectTcp} (the client's verified handshake), {@link createSelfSignedCredentials}.
 * - Errors: {@link SocketStepsError} and subclasses with stable `code`s.
 */

// Load generation (hbench).
export { LatencyHistogram, type LatencyHistogramData } from './bench/histogram.js';
export {
  type ExchangeStep,
  type LoadErrorKind,
  type LoadOptions,
  type LoadProgress,
  type LoadResult,
  type LoadTls,
  type LoadTlsResult,
  runLoad,
  scripts as loadScripts,
} from './bench/load.js';
export {
  connectToSupervisor,
  isWorker,
  mergeStats,
  type SupervisedServer,
  type SupervisorLink,
  type WorkerExit,
  WorkerSupervisor,
  type WorkerSupervisorOptions,
  workerPort,
} from './cluster/workers.js';
export * from './defaults.js';
export * from './errors.js';
export { LoopGuard, type LoopGuardOptions, type LoopVerdict } from './policy/loop-guard.js';
export { RateLimiter, type RateLimiterOptions } from './policy/rate-limit.js';
// PROXY protocol (v1 and v2): the header a load balancer sends first, and whom to believe it from.
export { type CidrBlock, parseCidr, TrustedProxies } from './policy/trusted-proxies.js';
// The classic test services (RFC 863-868): pure protocols, then TCP and UDP servers and clients.
export * from './protocol/chargen.js';
export { crc32c } from './protocol/crc32c.js';
// UDP: the lecture's reference flow (userver / uclient).
export { checkDatagramSize, helloMessageOf, type IpFamily, maxUdpPayload } from './protocol/datagram.js';
export * from './protocol/daytime.js';
export { ECHO_PROMPT, EchoLineSplitter, formatEchoLine, isQuitLine } from './protocol/echo-client.js';
// Conversations over TCP (issue #4): the Bob/Jane greet dialogue and the echo service.
export {
  checkName,
  decodeLine,
  encodeLine,
  formatAnswer,
  formatClosing,
  formatGreetError,
  formatGreeting,
  type GreetClientFailure,
  type GreetClientInput,
  type GreetClientState,
  GreetErrorCode,
  type GreetServerConfig,
  type GreetServerInput,
  type GreetServerOutcome,
  type GreetServerState,
  type GreetStep,
  initialGreetClientState,
  initialGreetServerState,
  parseAnswer,
  parseClosing,
  parseGreetError,
  parseGreeting,
  stepGreetClient,
  stepGreetServer,
  validateName,
} from './protocol/greet.js';
export { encodeHello, formatHelloLine, HelloDecoder, HelloEnd, type HelloFrame } from './protocol/hello.js';
export { LineFramer, type LineFramerOptions } from './protocol/line-framer.js';
export {
  type ProxyHeader,
  ProxyHeaderFailure,
  type ProxyHeaderFamily,
  ProxyHeaderParser,
  type ProxyHeaderParserOptions,
  type ProxyHeaderRejection,
  type ProxyHeaderResult,
  type ProxyHeaderTlvs,
  ProxyTlvType,
  parseProxyHeader,
  proxyHeaderPrefix,
} from './protocol/proxy-header.js';
export * from './protocol/qotd.js';
export * from './protocol/time.js';
export {
  derBitString,
  derElement,
  derOid,
  derSequence,
  derTime,
  derUnsignedInteger,
  encodeCertificate,
  encodeTbsCertificate,
  formatFingerprint,
  type ServerCertificateFields,
  toPem,
} from './protocol/x509-writer.js';
export * from './services/chargen.js';
export * from './services/daytime.js';
export * from './services/discard.js';
export {
  createEchoServer,
  type EchoClientOptions,
  EchoServer,
  type EchoServerOptions,
  type EchoSession,
  type EchoStats,
  openEcho,
} from './services/echo.js';
export {
  createGreetServer,
  type GreetLine,
  type GreetOptions,
  type GreetResult,
  type GreetServerOptions,
  greet,
} from './services/greet.js';
export {
  createHelloServer,
  type FetchHelloOptions,
  fetchHello,
  type HelloReply,
  type HelloServerOptions,
} from './services/hello.js';
export * from './services/one-shot.js';
export * from './services/qotd.js';
export * from './services/time.js';
export {
  createUdpEchoServer,
  openUdpEchoClient,
  UdpEchoClient,
  type UdpEchoClientOptions,
  type UdpEchoServerOptions,
} from './services/udp-echo.js';
export {
  createUdpHelloServer,
  type FetchUdpHelloOptions,
  fetchUdpHello,
  type UdpHelloServerOptions,
} from './services/udp-hello.js';
export { BYTES_CHANNEL, subscribeBytes, type TraceBytes } from './trace/bytes.js';
export { publishTraceEvent, subscribeTrace, TRACE_CHANNELS, type TraceEventInit } from './trace/events.js';
export {
  type DumpDirection,
  type DumpHeading,
  formatDumpHeading,
  formatHexdump,
  HEX_LINE_BYTES,
  type HexdumpOptions,
  hexdumpBytes,
} from './trace/hexdump.js';
export {
  formatMerged,
  MERGE_SOURCES,
  type MergeSource,
  mergeByStamp,
  parseTraceLine,
  type StampedLine,
} from './trace/merge.js';
export {
  formatTraceEvent,
  lectureStep,
  TRACE_LANGUAGES,
  TRACE_SCHEMA,
  type TraceAction,
  type TraceActionEntry,
  type TraceActionOf,
  type TraceAddress,
  type TraceEvent,
  type TraceLanguage,
  type TraceRole,
  type TraceTls,
  type TraceTransport,
  traceEntry,
  tracePreview,
} from './trace/schema.js';
export {
  Connection,
  type ConnectionStage,
  type PrefixResult,
  type ReadPrefixOptions,
  readPrefix,
} from './transport/connection.js';
export type { HttpGuardCounts } from './transport/http-guard.js';
export {
  type ProxyProtocolOptions,
  ProxyProtocolStage,
  type ProxyRefusal,
} from './transport/proxy-protocol.js';
export {
  type ActivatedSockets,
  activatedSockets,
  clearActivationEnv,
  LISTEN_FDS_START,
  MAX_LISTED_FDS,
} from './transport/socket-activation.js';
export { holdReading } from './transport/socket-bytes.js';
export type { ServerStats } from './transport/stats.js';
export { connectTcp, type TcpClientConnection, type TcpConnectOptions } from './transport/tcp-client.js';
export {
  type ConnectionHandler,
  type SocketBytes,
  TcpServer,
  type TcpServerOptions,
} from './transport/tcp-server.js';
// TLS (issue 22): the server's stage, the client's handshake, and a self-signed certificate.
export {
  createSelfSignedCredentials,
  credentialsFromPem,
  fingerprintOf,
  type SelfSignedOptions,
  type ServerCredentials,
} from './transport/tls-certificate.js';
export { startTls, type TlsClientOptions, type TlsClientResult } from './transport/tls-client.js';
export type { TlsDetails } from './transport/tls-details.js';
export { type TlsServerOptions, TlsServerStage } from './transport/tls-server.js';
export {
  connectUdp,
  UdpClient,
  type UdpConnectOptions,
  type UdpRequestOptions,
  type UdpRetry,
} from './transport/udp-client.js';
export {
  type DatagramHandler,
  type UdpRateLimitOptions,
  UdpServer,
  type UdpServerOptions,
} from './transport/udp-server.js';
export {
  displayUnixPath,
  parseUnixAddress,
  UNIX_FAMILY,
  UNIX_PATH_MAX_BYTES,
  type UnixAddress,
} from './unix-address.js';
export { formatAddress, parsePort } from './validate.js';
export { VERSION } from './version.js';
// The live view (issue 13): the lecture's diagrams drawn from the trace and the kernel's states.
export {
  clientFor,
  loopbackTarget,
  runViewClient,
  VIEW_CLIENTS,
  type ViewClient,
  type ViewClientTarget,
} from './view/clients.js';
export {
  findSs,
  isLoopback,
  type KernelEnds,
  KernelReader,
  type KernelReaderOptions,
  type KernelReading,
  type KernelRow,
  type KernelSource,
  kernelKey,
} from './view/kernel-reader.js';
export { mermaidText, toMermaid } from './view/mermaid.js';
export { PAGE_WORDS, type PageOptions, type PageWord, renderPage, type WordKey } from './view/page.js';
export {
  type ByteOrder,
  canonicalAddress,
  decodeProcAddress,
  encodeProcAddress,
  type KernelState,
  type ProcNetRow,
  parseProcNetRow,
  parseProcNetTable,
  plainAddress,
  procEndpoint,
  TCP_STATES,
  type TcpStateName,
} from './view/proc-net.js';
export {
  parseSsLine,
  SS_STATES,
  type SsConnection,
  type SsEnd,
  SsFramer,
  type SsRow,
  ssFamily,
  ssFilter,
} from './view/ss.js';
export {
  type KernelPace,
  type KernelTarget,
  type UnixPeer,
  type UnixPeerTarget,
  type ViewAddress,
  type ViewBytes,
  type ViewConnection,
  type ViewCounters,
  type ViewEnd,
  type ViewEvent,
  type ViewListener,
  ViewState,
  type ViewStateOptions,
} from './view/state.js';
export {
  createViewServer,
  type ViewRoute,
  ViewServer,
  type ViewServerOptions,
  type ViewSnapshot,
} from './view/view-server.js';
