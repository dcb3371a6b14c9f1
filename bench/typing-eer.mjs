#!/usr/bin/env node
// The typing-pattern detector's error rates on a SYNTHETIC keystroke set (docs/security.md
// "Typing pattern"). Deterministic: the same seed gives the same numbers on every machine.
//
//   node bench/typing-eer.mjs            the table
//   node bench/typing-eer.mjs --json     the same as JSON
//   node bench/typing-eer.mjs --seed 7   another synthetic population
//
// It runs the service's own detector (src/core/typing/detector.ts, bundled with esbuild) on
// data shaped like the CMU benchmark of Killourhy and Maxion (DSN 2009): 51 subjects typing
// one 10-character phrase + Return, 31 features per typing (11 hold times H, 10 keydown-keydown
// DD and 10 keyup-keydown UD = DD - H of the earlier key), 400 typings each. Their protocol:
// train on a subject's first 200 typings, score the next 200 as genuine and the first 5 of
// each of the 50 other subjects (250) as impostors, take each subject's equal error rate (the
// threshold where misses and false alarms are equal) and average. Their result for Manhattan
// (scaled): 0.096 (sd 0.069) on the real data.
//
// HOW THE DATA IS MADE (ASSUMPTIONS, not measurements): a phrase template of per-key hold and
// latency means; each subject scales it by a personal speed (log-normal, sd 0.25) and
// perturbs each key by a personal rhythm (log-normal, sd 0.30); each typing multiplies every
// timing by log-normal noise with the subject's own variability (cv 0.10..0.30), drifts by
// session (every 50 typings, sd 0.05) and has a 2% chance per latency of a hesitation
// (+200..800 ms). Synthetic numbers say how the code behaves on data of this shape; they are
// not the detector's error rate on real people.
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const json = args.includes("--json");
const seedArg = args.indexOf("--seed");
const SEED = seedArg >= 0 ? Number(args[seedArg + 1]) : 20260101;

const here = fileURLToPath(new URL(".", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "typing-eer-"));
const out = join(dir, "detector.mjs");
await build({ entryPoints: [join(here, "../src/core/typing/detector.ts")], bundle: true, format: "esm", platform: "neutral", outfile: out, logLevel: "silent" });
const det = await import(pathToFileURL(out).href);
rmSync(dir, { recursive: true, force: true });

// mulberry32 + Box-Muller: a small deterministic generator (no dependency).
function rng(seed) {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const n = () => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
  return { u, n };
}

const SUBJECTS = 51;
const TYPINGS = 400;
const KEYS = 11;
const r = rng(SEED);
const templateH = Array.from({ length: KEYS }, () => 70 + r.u() * 60);
const templateDD = Array.from({ length: KEYS - 1 }, () => 120 + r.u() * 280);

function subject() {
  const speed = Math.exp(0.25 * r.n());
  const h = templateH.map((m) => m * speed * Math.exp(0.3 * r.n()));
  const dd = templateDD.map((m) => m * speed * Math.exp(0.3 * r.n()));
  const cv = 0.1 + r.u() * 0.2;
  const typings = [];
  let drift = 1;
  for (let t = 0; t < TYPINGS; t++) {
    if (t % 50 === 0) drift = Math.exp(0.05 * r.n());
    const H = h.map((m) => m * drift * Math.exp(cv * r.n()));
    const DD = dd.map((m) => m * drift * Math.exp(cv * r.n()) + (r.u() < 0.02 ? 200 + r.u() * 600 : 0));
    const v = [];
    for (let k = 0; k < KEYS; k++) {
      v.push(H[k]);
      if (k < KEYS - 1) v.push(DD[k], DD[k] - H[k]);
    }
    // The wire format carries at most 3 decimals.
    typings.push(v.map((x) => Math.round(x * 1000) / 1000));
  }
  return typings;
}
const data = Array.from({ length: SUBJECTS }, subject);

/** Equal error rate from genuine and impostor scores (lower score = more genuine). */
function eer(genuine, impostor) {
  const ts = [...genuine, ...impostor].sort((a, b) => a - b);
  let best = { gap: Infinity, rate: 1 };
  for (const t of ts) {
    const frr = genuine.filter((s) => s > t).length / genuine.length;
    const far = impostor.filter((s) => s <= t).length / impostor.length;
    const gap = Math.abs(frr - far);
    if (gap < best.gap) best = { gap, rate: (frr + far) / 2 };
  }
  return best.rate;
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

function run(trainCount) {
  const eers = [];
  const frrs = [];
  const fars = [];
  for (let s = 0; s < SUBJECTS; s++) {
    const model = det.train(data[s].slice(0, trainCount));
    const genuine = data[s].slice(200, 400).map((x) => det.score(model, x));
    const impostor = [];
    for (let o = 0; o < SUBJECTS; o++) if (o !== s) for (const x of data[o].slice(0, 5)) impostor.push(det.score(model, x));
    eers.push(eer(genuine, impostor));
    frrs.push(genuine.filter((g) => g > model.threshold).length / genuine.length);
    fars.push(impostor.filter((i) => i <= model.threshold).length / impostor.length);
  }
  return { training: trainCount, eer: mean(eers), eerSd: sd(eers), frrAtThreshold: mean(frrs), farAtThreshold: mean(fars) };
}

const rows = [run(200), run(det.MAX_ENROL_SAMPLES), run(50), run(det.MIN_ENROL_SAMPLES)];
const result = {
  seed: SEED,
  subjects: SUBJECTS,
  features: 3 * KEYS - 2,
  threshold: { quantile: det.THRESHOLD_QUANTILE, margin: det.THRESHOLD_MARGIN },
  rows,
  reference: "Killourhy & Maxion 2009, Manhattan (scaled), CMU data, 200 training typings: EER 0.096 (sd 0.069)",
};
if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const f = (x) => x.toFixed(3);
  console.log(`typing-pattern detector on synthetic data (seed ${SEED}; ${SUBJECTS} subjects, ${result.features} features)`);
  console.log("training typings | EER (sd)        | at the per-user threshold: FRR  FAR");
  for (const row of rows) console.log(`${String(row.training).padStart(16)} | ${f(row.eer)} (${f(row.eerSd)}) | ${f(row.frrAtThreshold).padStart(30)} ${f(row.farAtThreshold)}`);
  console.log(result.reference);
}
