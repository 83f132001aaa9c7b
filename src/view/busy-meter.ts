/**
 * Whether the server is busy, for the live view: more than a given number of connections
 * accepted a second, measured over windows of at least half a second. While it is, the view
 * sends fewer updates and reads the kernel less often; a page cannot follow thousands of
 * connections a second anyway, and what the view does is taken from the server's CPU.
 *
 * Pure: the caller gives the clock. The answer turns busy only once a window has passed, so a
 * burst shorter than a window does not flip it; it turns quiet at once when no connection came
 * for a quarter of a second (at the threshold's rate one comes every 5 ms), so that the first
 * connection after a load is shown at the full pace.
 */
export class BusyMeter {
  readonly #threshold: number;
  readonly #window: number;
  readonly #gap: number;
  #since: number;
  #last: number;
  #count = 0;
  #busy = false;

  /**
   * @param threshold accepted connections a second above which the server is busy
   * @param now the clock's reading to start from, in ms
   * @param window the shortest window a rate is taken over, in ms
   * @param gap ms without a connection after which the server is quiet at once
   */
  constructor(threshold: number, now: number, window = 500, gap = 250) {
    this.#threshold = threshold;
    this.#window = window;
    this.#gap = gap;
    this.#since = now;
    this.#last = now;
  }

  /** Counts one connection accepted at `now`. */
  accepted(now: number): void {
    if (now - this.#last > this.#gap) this.#quiet(now);
    this.#last = now;
    this.#count++;
  }

  /** True while the last full window's rate was above the threshold, and connections still come. */
  busy(now: number): boolean {
    if (this.#busy && now - this.#last > this.#gap) this.#quiet(now);
    const elapsed = now - this.#since;
    if (elapsed >= this.#window) {
      this.#busy = (this.#count * 1000) / elapsed > this.#threshold;
      this.#count = 0;
      this.#since = now;
    }
    return this.#busy;
  }

  /** When the server turns quiet if no connection comes before (the clock's ms). */
  get quietAt(): number {
    return this.#last + this.#gap;
  }

  #quiet(now: number): void {
    this.#busy = false;
    this.#count = 0;
    this.#since = now;
  }
}
