/**
 * A raw UDP peer for tests: a bound dgram socket with a queue of received datagrams and a bounded
 * wait for the next one. It is not the library's client, so it can send what that one refuses and
 * see exactly what arrives.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';

/** One received datagram. */
export interface Received {
  message: Buffer;
  remote: RemoteInfo;
}

/** A bound UDP socket used as a test peer. */
export interface TestPeer {
  socket: Socket;
  /** The bound port. */
  port: number;
  /** Datagrams received and not yet taken by `receive()`. */
  readonly queued: number;
  /** Sends one datagram and waits until the kernel has it. */
  send(message: Uint8Array, port: number, host: string): Promise<void>;
  /** The next datagram, or an error after `timeoutMs`. */
  receive(timeoutMs?: number): Promise<Received>;
  /** Closes the socket (safe twice). */
  close(): Promise<void>;
}

/** Binds a peer on `host` (127.0.0.1 or ::1) and port 0. */
export async function openPeer(host: '127.0.0.1' | '::1' = '127.0.0.1'): Promise<TestPeer> {
  const socket = createSocket(host === '::1' ? 'udp6' : 'udp4');
  const queue: Received[] = [];
  let waiter: ((r: Received) => void) | undefined;
  socket.on('message', (message, remote) => {
    if (waiter !== undefined) {
      const w = waiter;
      waiter = undefined;
      w({ message, remote });
    } else queue.push({ message, remote });
  });
  socket.bind(0, host);
  await once(socket, 'listening');
  let closed: Promise<void> | undefined;
  return {
    socket,
    port: socket.address().port,
    get queued() {
      return queue.length;
    },
    send: (message, port, to) =>
      new Promise((resolve, reject) => socket.send(message, port, to, (e) => (e ? reject(e) : resolve()))),
    receive: (timeoutMs = 5_000) => {
      const first = queue.shift();
      if (first !== undefined) return Promise.resolve(first);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          reject(new Error(`no datagram within ${timeoutMs} ms`));
        }, timeoutMs);
        waiter = (r) => {
          clearTimeout(timer);
          resolve(r);
        };
      });
    },
    close: () => {
      closed ??= new Promise((resolve) => socket.close(() => resolve()));
      return closed;
    },
  };
}
