/**
 * The typing-pattern detector: "Manhattan (scaled)" of Killourhy and Maxion, "Comparing
 * Anomaly-Detection Algorithms for Keystroke Dynamics" (DSN 2009), the best of their 14
 * detectors on the CMU benchmark (equal error rate 0.096). Pure functions, no I/O: the
 * benchmark (bench/typing-eer.mjs) runs exactly this code.
 *
 * Training: the mean vector μ and, per feature, the mean absolute deviation a_i of the
 * training vectors from μ. Score of a test vector x: Σ_i |x_i − μ_i| / a_i, here divided by the
 * number of features so that thresholds read the same for any phrase length.
 *
 * Threshold, per user (K&M tune one per subject at the EER, which needs impostor data that an
 * enrolment does not have): from the leave-one-out scores of the user's own enrolment vectors,
 * `THRESHOLD_QUANTILE` of them times `THRESHOLD_MARGIN`. Both constants were chosen with the
 * synthetic benchmark (docs/security.md "Typing pattern" gives the measured error rates).
 *
 * Wire format of `pattern` (docs/api/authn.md "Typing pattern"): the timing features of one
 * typing of the tenant's fixed phrase, in milliseconds, as decimal numbers separated by commas
 * (e.g. the CMU order: H.k1, DD.k1.k2, UD.k1.k2, H.k2, ...). 5 to 64 features, each a finite
 * number from -10000 to 10000 (up-down latencies are negative when keys overlap), at most 3
 * decimals. Every pattern of a user has the length of their enrolment.
 */
export const MIN_FEATURES = 5;
export const MAX_FEATURES = 64;
export const MIN_ENROL_SAMPLES = 20;
export const MAX_ENROL_SAMPLES = 100;
export const THRESHOLD_QUANTILE = 0.9;
export const THRESHOLD_MARGIN = 1.0;
/** a_i never below this (ms): a feature the user typed identically every time must not divide by ~0. */
export const MIN_DEVIATION_MS = 2;
const MAX_ABS_MS = 10_000;

export interface TypingModel {
  v: 1;
  mean: number[];
  deviation: number[];
  threshold: number;
}

/** Parses a `pattern` string; null when it does not follow the wire format. */
export function parsePattern(pattern: string): number[] | null {
  if (typeof pattern !== "string" || pattern.length === 0 || pattern.length > MAX_FEATURES * 12) return null;
  const parts = pattern.split(",");
  if (parts.length < MIN_FEATURES || parts.length > MAX_FEATURES) return null;
  const out: number[] = [];
  for (const p of parts) {
    const t = p.trim();
    if (!/^-?\d{1,5}(\.\d{1,3})?$/.test(t)) return null;
    const n = Number(t);
    if (!Number.isFinite(n) || Math.abs(n) > MAX_ABS_MS) return null;
    out.push(n);
  }
  return out;
}

/** The canonical spelling of a parsed pattern: what "the same pattern" (a replay) means. */
export function canonicalPattern(v: readonly number[]): string {
  return v.map((n) => (Math.round(n * 1000) / 1000).toString()).join(",");
}

function meanOf(vectors: readonly (readonly number[])[]): number[] {
  const n = vectors[0]!.length;
  const m = new Array<number>(n).fill(0);
  for (const v of vectors) for (let i = 0; i < n; i++) m[i]! += v[i]! / vectors.length;
  return m;
}

function deviationOf(vectors: readonly (readonly number[])[], mean: readonly number[]): number[] {
  const n = mean.length;
  const d = new Array<number>(n).fill(0);
  for (const v of vectors) for (let i = 0; i < n; i++) d[i]! += Math.abs(v[i]! - mean[i]!) / vectors.length;
  return d.map((x) => Math.max(x, MIN_DEVIATION_MS));
}

/** The scaled-Manhattan score of `x` against a mean and deviation (lower is more like the user). */
export function score(model: Pick<TypingModel, "mean" | "deviation">, x: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < model.mean.length; i++) s += Math.abs(x[i]! - model.mean[i]!) / model.deviation[i]!;
  return s / model.mean.length;
}

function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Trains a model from enrolment vectors (all of one length). The threshold comes from
 * leave-one-out scores, so it is not flattered by scoring vectors against a mean they made.
 */
export function train(vectors: readonly (readonly number[])[], opts: { quantile?: number; margin?: number } = {}): TypingModel {
  if (vectors.length < 2) throw new Error("at least two vectors are needed");
  const mean = meanOf(vectors);
  const deviation = deviationOf(vectors, mean);
  const loo: number[] = [];
  for (let j = 0; j < vectors.length; j++) {
    const rest = vectors.filter((_, k) => k !== j);
    const m = meanOf(rest);
    loo.push(score({ mean: m, deviation: deviationOf(rest, m) }, vectors[j]!));
  }
  loo.sort((a, b) => a - b);
  const threshold = quantile(loo, opts.quantile ?? THRESHOLD_QUANTILE) * (opts.margin ?? THRESHOLD_MARGIN);
  return { v: 1, mean, deviation, threshold };
}

/** Whether `x` is accepted as the user's typing. */
export function accepts(model: TypingModel, x: readonly number[]): boolean {
  return x.length === model.mean.length && score(model, x) <= model.threshold;
}
