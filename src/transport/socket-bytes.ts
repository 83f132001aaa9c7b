/**
 * A socket's bytes on the bytes channel (src/trace/bytes.ts), with the way for a subscriber that
 * cannot keep up to hold the socket's reading back: `--hex` writing to a slow terminal pauses the
 * connections it dumps, so that a fast peer never fills the memory with dump text.
 */
import type { Socket } from 'node:net';
import { publishTraceBytes, type TraceBytesInit } from '../trace/bytes.js';

const kHold = Symbol('read hold');
interface HoldState {
  count: number;
  // What the socket's own code last asked for while held: flowing (resume) or paused (pause).
  wantsFlow: boolean;
}
type HeldSocket = Socket & { [kHold]?: HoldState };

/**
 * Stops reading from `socket` until the returned function is called (once; later calls do
 * nothing). Holds nest: reading resumes once every hold is released. While held, the service's
 * own `pause()` and `resume()` (its flow control: echo pauses while its peer does not read) are
 * recorded rather than obeyed, and the last of them decides whether the socket flows again on
 * release: a hold never resumes a socket its service paused, nor leaves paused one it resumed.
 */
export function holdReading(socket: Socket): () => void {
  const held = socket as HeldSocket;
  let state = held[kHold];
  if (state === undefined) {
    const own = { pause: socket.pause, resume: socket.resume };
    const hold: HoldState = { count: 0, wantsFlow: socket.readableFlowing === true };
    state = hold;
    held[kHold] = hold;
    // Shadows the prototype's methods on this socket only, for as long as it is held.
    socket.pause = function (this: Socket) {
      hold.wantsFlow = false;
      return own.pause.call(this);
    };
    socket.resume = function (this: Socket) {
      hold.wantsFlow = true;
      return this;
    };
    own.pause.call(socket);
  }
  const hold = state;
  hold.count++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    hold.count--;
    if (hold.count > 0) return;
    Reflect.deleteProperty(socket, 'pause');
    Reflect.deleteProperty(socket, 'resume');
    Reflect.deleteProperty(socket, kHold);
    if (hold.wantsFlow && !socket.destroyed) socket.resume();
  };
}

/**
 * Publishes bytes read from or written to `socket` on the bytes channel, its offset counted per
 * socket and direction, with a {@link holdReading} hold on it. Call only when the channel has
 * subscribers.
 */
export function publishSocketBytes(init: Omit<TraceBytesInit, 'hold'>, socket: Socket): void {
  publishTraceBytes({ ...init, hold: () => holdReading(socket) }, socket);
}
