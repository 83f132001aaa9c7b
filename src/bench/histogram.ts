/**
 * A latency histogram with bounded memory and about 0.1% precision (log-linear buckets, in the
 * spirit of HdrHistogram). Values are whole microseconds. Pure: no I/O.
 */

const LINEAR = 2048; // values below this are exact
const SUB = 1024; // buckets per power of two above it
const MAX_SHIFT = 22; // up to 2^32 µs (over an hour), far beyond any timeout

/**
 * A histogram as plain data, for `postMessage` and JSON: the non-empty buckets as
 * `[index, count]` pairs, plus the exact totals.
 */
export interface LatencyHistogramData {
  /** The non-empty buckets: `[bucket index, count]`. */
  buckets: Array<[number, number]>;
  /** Values recorded. */
  total: number;
  /** Their exact sum, for the mean. */
  sum: number;
  /** The largest value recorded. */
  max: number;
  /** The smallest value recorded. */
  min: number;
}

/** Records values and answers percentiles. */
export class LatencyHistogram {
  readonly #counts = new Float64Array(LINEAR + MAX_SHIFT * SUB);
  #total = 0;
  #max = 0;
  #min = Number.POSITIVE_INFINITY;
  #sum = 0;

  /** Number of recorded values. */
  get count(): number {
    return this.#total;
  }

  /** Largest recorded value (exact), or 0. */
  get max(): number {
    return this.#total === 0 ? 0 : this.#max;
  }

  /** Smallest recorded value (exact), or 0. */
  get min(): number {
    return this.#total === 0 ? 0 : this.#min;
  }

  /** Mean of the recorded values, or 0. */
  get mean(): number {
    return this.#total === 0 ? 0 : this.#sum / this.#total;
  }

  /** Records one value in microseconds (negative values count as 0). */
  record(micros: number): void {
    const v = micros > 0 ? Math.round(micros) : 0;
    const bucket = bucketOf(v);
    this.#counts[bucket] = (this.#counts[bucket] ?? 0) + 1;
    this.#total++;
    this.#sum += v;
    if (v > this.#max) this.#max = v;
    if (v < this.#min) this.#min = v;
  }

  /** Adds another histogram's values to this one. */
  merge(other: LatencyHistogram): void {
    const counts = other.#counts;
    for (let i = 0; i < counts.length; i++) this.#counts[i] = (this.#counts[i] ?? 0) + (counts[i] ?? 0);
    this.#total += other.#total;
    this.#sum += other.#sum;
    if (other.#total > 0) {
      this.#max = Math.max(this.#max, other.#max);
      this.#min = Math.min(this.#min, other.#min);
    }
  }

  /** This histogram as plain data (see {@link LatencyHistogram.fromData}). */
  toData(): LatencyHistogramData {
    const buckets: Array<[number, number]> = [];
    this.#counts.forEach((count, index) => {
      if (count > 0) buckets.push([index, count]);
    });
    return { buckets, total: this.#total, sum: this.#sum, max: this.#max, min: this.#min };
  }

  /** A histogram from {@link LatencyHistogram.toData}'s output; throws on data that is not one. */
  static fromData(data: LatencyHistogramData): LatencyHistogram {
    const histogram = new LatencyHistogram();
    let total = 0;
    for (const [index, count] of data.buckets) {
      if (!Number.isInteger(index) || index < 0 || index >= histogram.#counts.length || !(count > 0)) {
        throw new RangeError(`not a latency histogram bucket: [${index}, ${count}]`);
      }
      histogram.#counts[index] = count;
      total += count;
    }
    if (total !== data.total) throw new RangeError('latency histogram: bucket counts do not add up to total');
    histogram.#total = data.total;
    histogram.#sum = data.sum;
    histogram.#max = data.max;
    histogram.#min = data.min;
    return histogram;
  }

  /**
   * The value at percentile `p` (0 to 100): the smallest bucket value with at least p% of the
   * values at or below it, capped at the exact maximum. 0 when empty.
   */
  percentile(p: number): number {
    if (this.#total === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(Math.max(p, 0), 100) / 100) * this.#total));
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) return Math.min(Math.max(bucketValue(i), this.#min), this.#max);
    }
    return this.#max;
  }
}

function bucketOf(v: number): number {
  if (v < LINEAR) return v;
  const bits = 32 - Math.clz32(Math.min(v, 2 ** 32 - 1));
  const shift = Math.min(bits - 11, MAX_SHIFT);
  return LINEAR + (shift - 1) * SUB + (Math.min(v >>> shift, 2 * SUB - 1) - SUB);
}

function bucketValue(index: number): number {
  if (index < LINEAR) return index;
  const shift = Math.floor((index - LINEAR) / SUB) + 1;
  const base = ((index - LINEAR) % SUB) + SUB;
  // The bucket holds [base << shift, (base + 1) << shift): report its upper end.
  return (base + 1) * 2 ** shift - 1;
}
