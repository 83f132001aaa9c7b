/**
 * A raw TCP peer for tests: plain `node:net`, none of the library's client code, so that the
 * servers are checked against bytes on the wire.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { subscribeTrace, type TraceEvent } from '../../src/trace/events.js';

/** Connects to 127.0.0.1 (or `host`) and resolves once connected. */
export async function rawConnect(port: number, host = '127.0.0.1'): Promise<Socket> {
  const socket = connect({ port, host, allowHalfOpen: true });
  await once(socket, 'connect');
  return socket;
}

/**
 * Collects everything the peer sends until it closes its side, bounded by `timeoutMs` (the socket
 * is destroyed past it and the promise rejects). Resolves with the bytes.
 */
export function readToEnd(socket: Socket, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no end of stream within ${timeoutMs} ms; got ${Buffer.concat(chunks).toString()}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.resume();
  });
}

/** Waits for the first complete `\n`-terminated line from the peer, bounded by `timeoutMs`. */
export function readLine(socket: Socket, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let bytes = Buffer.alloc(0);
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no line within ${timeoutMs} ms; got ${JSON.stringify(bytes.toString())}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      const end = bytes.indexOf(0x0a);
      if (end !== -1) {
        cleanup();
        socket.pause();
        if (end + 1 < bytes.length) socket.unshift(bytes.subarray(end + 1));
        resolve(bytes.subarray(0, end).toString('utf8'));
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new Error(`end of stream before a line; got ${JSON.stringify(bytes.toString())}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.resume();
  });
}

/** Sends `data`, half-closes, and returns everything received until the peer closes. */
export async function rawExchangeBytes(
  port: number,
  data: string | Buffer,
  host = '127.0.0.1',
): Promise<Buffer> {
  const socket = await rawConnect(port, host);
  const received = readToEnd(socket);
  socket.end(data);
  try {
    return await received;
  } finally {
    await closeSocket(socket);
  }
}

/** {@link rawExchangeBytes}, decoded as UTF-8. */
export async function rawExchange(port: number, data: string | Buffer, host = '127.0.0.1'): Promise<string> {
  return (await rawExchangeBytes(port, data, host)).toString('utf8');
}

/**
 * Resolves when `socket` closes, reading and dropping what it receives (unread data would hold
 * back 'end', and so 'close'); rejects past `timeoutMs`, destroying the socket, so that a server
 * that never closes fails the test instead of holding its process open.
 */
export function closedWithin(socket: Socket, timeoutMs = 10_000): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the socket was not closed within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.resume();
  });
}

/** Destroys a socket and waits for its close event. */
export async function closeSocket(socket: Socket): Promise<void> {
  if (socket.closed) return;
  const closed = once(socket, 'close');
  socket.destroy();
  await closed;
}

/**
 * Resolves with the first trace event that `matches`, bounded by `timeoutMs`. Subscribe before
 * doing what produces the event.
 */
export function waitForTrace(
  matches: (event: TraceEvent) => boolean,
  timeoutMs = 10_000,
): Promise<TraceEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no matching trace event within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = subscribeTrace((event) => {
      if (!matches(event)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(event);
    });
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bound, read, released). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as import('node:net').AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * A plain `node:net` server with odd behaviour (`onSocket` decides), for testing clients against
 * peers that are not our code. It is closed, with every socket it accepted, after the test.
 */
export async function peerServer(
  t: { after(fn: () => unknown): void },
  onSocket: (socket: Socket) => void,
  host = '127.0.0.1',
): Promise<number> {
  const { createServer } = await import('node:net');
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  server.listen(0, host);
  await once(server, 'listening');
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as import('node:net').AddressInfo).port;
}

/** `count` connections to an HTTP listener on 127.0.0.1 that send part of a request head and never the rest. */
export async function halfSentRequests(port: number, count: number): Promise<Socket[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.on('error', () => {});
      await once(socket, 'connect');
      socket.write(`GET /state HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
      // Whatever comes back (a 408 when Node's own clock runs out first) is read and dropped:
      // a stream whose data nobody reads never emits 'end', and so never 'close'.
      socket.resume();
      return socket;
    }),
  );
}
