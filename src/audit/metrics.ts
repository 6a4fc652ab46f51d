/**
 * Error metrics of an output against its exact reference, accumulated as running sums so that samples and
 * large tensors stream through without being kept.
 */

export interface ErrorMetrics {
  /** ‖y − r‖ / ‖r‖ (‖y − r‖ when r = 0); Infinity when y has non-finite values where r has none. */
  readonly relL2: number;
  /** 10·log10(Σr² / Σ(y − r)²) in dB; Infinity for identical tensors. */
  readonly sqnrDb: number;
  readonly cosine: number;
  readonly maxAbs: number;
  /** Share of positions whose arg-max over the last axis agrees (class-score outputs only). */
  readonly top1: number | null;
  readonly elements: number;
}

export class ErrorAccumulator {
  private signal = 0;
  private noise = 0;
  private dot = 0;
  private power = 0;
  private maxAbs = 0;
  private elements = 0;
  private broken = 0;
  private top1Agree = 0;
  private top1Total = 0;

  /** Adds one output tensor pair; `classAxis` is the size of the last axis when top-1 is meaningful. */
  add(actual: ArrayLike<number>, reference: ArrayLike<number>, classAxis: number | null = null): void {
    for (let i = 0; i < reference.length; i++) {
      const r = reference[i]!;
      const y = actual[i]!;
      const d = y - r;
      if (!Number.isFinite(d)) {
        if (!(Object.is(y, r) || (Number.isNaN(y) && Number.isNaN(r)))) this.broken++;
        continue;
      }
      this.signal += r * r;
      this.noise += d * d;
      this.dot += y * r;
      this.power += y * y;
      if (Math.abs(d) > this.maxAbs) this.maxAbs = Math.abs(d);
    }
    this.elements += reference.length;
    if (classAxis !== null && classAxis > 1) {
      for (let start = 0; start + classAxis <= reference.length; start += classAxis) {
        if (argMax(actual, start, classAxis) === argMax(reference, start, classAxis)) this.top1Agree++;
        this.top1Total++;
      }
    }
  }

  merge(other: ErrorAccumulator): void {
    this.signal += other.signal;
    this.noise += other.noise;
    this.dot += other.dot;
    this.power += other.power;
    this.maxAbs = Math.max(this.maxAbs, other.maxAbs);
    this.elements += other.elements;
    this.broken += other.broken;
    this.top1Agree += other.top1Agree;
    this.top1Total += other.top1Total;
  }

  metrics(): ErrorMetrics {
    const broken = this.broken > 0;
    const relL2 = broken ? Infinity : this.signal === 0 ? Math.sqrt(this.noise) : Math.sqrt(this.noise / this.signal);
    const sqnrDb = broken ? -Infinity : this.noise === 0 ? Infinity : 10 * Math.log10(this.signal / this.noise);
    const norms = Math.sqrt(this.signal * this.power);
    const cosine = broken ? NaN : norms === 0 ? (this.noise === 0 ? 1 : 0) : this.dot / norms;
    return {
      relL2,
      sqnrDb,
      cosine,
      maxAbs: broken ? Infinity : this.maxAbs,
      top1: this.top1Total > 0 ? this.top1Agree / this.top1Total : null,
      elements: this.elements,
    };
  }
}

function argMax(values: ArrayLike<number>, start: number, length: number): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (values[start + i]! > values[start + best]!) best = i;
  return best;
}
