/**
 * Binds an HTTP server (the live view's, the metrics'): resolves with its address once listening,
 * rejects with a {@link BindError} naming the address. After that, `onError` gets the server's
 * errors, so that none of them can go unhandled.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BindError, describeSystemError } from '../errors.js';
import { formatAddress } from '../validate.js';

/** Listens on `host`:`port`; see the module's description. */
export function listenHttp(
  server: Server,
  host: string,
  port: number,
  onError: (error: Error) => void,
): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onBindError = (error: Error) =>
      reject(
        new BindError(`${formatAddress(host, port)}: ${describeSystemError(error)}`, {
          cause: error,
          call: 'bind',
        }),
      );
    server.once('error', onBindError);
    server.listen({ host, port }, () => {
      server.off('error', onBindError);
      server.on('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}
