/**
 * The answer of a streaming prefix parser (a PROXY header's, for one): pure, so that the protocols
 * that produce it and the transport that reads a prefix off a socket (readPrefix in
 * src/transport/connection.ts) can both use it without the protocol importing the transport.
 */

/** What a streaming prefix parser says about the bytes so far. */
export type PrefixResult<T> =
  /** Not complete yet: give me more. */
  | {
      /** `false`: not complete. */
      done: false;
    }
  /** Complete: the value, and how many bytes of the last chunk were not part of it. */
  | {
      /** `true`: complete. */
      done: true;
      /** What the prefix said. */
      value: T;
      /** Bytes at the end of the last chunk that follow the prefix (the service's). */
      unused: number;
    };
