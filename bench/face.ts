/**
 * `npm run bench:face`: face finding on the alignment fixtures, the settings before issue 14
 * (both detector sizes, 27 dlib placements) against today's, in one run: time per step and the
 * quad's error against the reference alignment, in percent of its size.
 */
import { detectFaces, faceApiLandmarks, loadFaceApi } from '../src/engine/face/detect.ts';
import { alignFace } from '../src/engine/face/align.ts';
import {
  DEFAULT_LANDMARK_MODEL,
  JITTER,
  loadShapePredictor,
  refineLandmarks,
  type Jitter,
} from '../src/engine/face/landmarks.ts';
import type { Point } from '../src/engine/face/warp.ts';
import { CASES, loadRgb, quadErrorPercent } from '../test/face/fixtures.ts';

const REPS = 3;
const variants: { name: string; sizes?: number[]; jitter: Jitter }[] = [
  {
    name: 'before',
    sizes: [416, 608],
    jitter: { scales: [0.92, 1, 1.08], shifts: [-0.03, 0, 0.03] },
  },
  { name: 'now', jitter: JITTER },
];
await loadFaceApi();
const sp = await loadShapePredictor(DEFAULT_LANDMARK_MODEL);
if (!sp) throw new Error(`dlib's model is missing at ${DEFAULT_LANDMARK_MODEL}`);

const centre = (q: readonly (readonly number[])[]): Point => [
  (q[0]![0]! + q[2]![0]!) / 2,
  (q[0]![1]! + q[2]![1]!) / 2,
];

const totals = new Map<
  string,
  { detect: number; landmarks: number; worst: number; sum: number; n: number }
>();
for (const v of variants) totals.set(v.name, { detect: 0, landmarks: 0, worst: 0, sum: 0, n: 0 });
for (const c of CASES) {
  const photo = await loadRgb(c.photo);
  // Variants take turns within each repetition, so a busy moment of the machine hits both.
  const detectMs = new Map(variants.map((v) => [v.name, Infinity]));
  const landmarkMs = new Map(variants.map((v) => [v.name, Infinity]));
  const found = new Map<string, { faces: number; points?: Point[] }>();
  for (let r = 0; r < REPS; r++) {
    for (const v of variants) {
      let start = performance.now();
      const faces = await detectFaces(photo, v.sizes);
      detectMs.set(v.name, Math.min(detectMs.get(v.name)!, performance.now() - start));
      const face = faces[0];
      if (!face) {
        found.set(v.name, { faces: 0 });
        continue;
      }
      start = performance.now();
      const points = refineLandmarks(photo, sp, await faceApiLandmarks(photo, face), v.jitter);
      landmarkMs.set(v.name, Math.min(landmarkMs.get(v.name)!, performance.now() - start));
      found.set(v.name, { faces: faces.length, points });
    }
  }
  const cells: string[] = [];
  for (const v of variants) {
    const t = totals.get(v.name)!;
    const { faces, points } = found.get(v.name)!;
    const dMs = detectMs.get(v.name)!;
    t.detect += dMs;
    if (!points) {
      cells.push(`${v.name}: no face, detect ${dMs.toFixed(0)} ms`);
      continue;
    }
    const lMs = landmarkMs.get(v.name)!;
    t.landmarks += lMs;
    const { quad } = await alignFace(photo, points, 256);
    // The reference's quad of the face we kept (nearest, where it found several).
    const candidates = c.all_faces_quads ?? [c.expected_quad_in_photo ?? c.quad_in_photo!];
    const ours = centre(quad);
    const ref = candidates.reduce((a, b) =>
      Math.hypot(centre(a)[0] - ours[0], centre(a)[1] - ours[1]) <=
      Math.hypot(centre(b)[0] - ours[0], centre(b)[1] - ours[1])
        ? a
        : b,
    );
    const qsize =
      c.expected_qsize ?? Math.hypot(ref[0]![0]! - ref[3]![0]!, ref[0]![1]! - ref[3]![1]!);
    const error = quadErrorPercent(quad, ref, qsize);
    t.worst = Math.max(t.worst, error);
    t.sum += error;
    t.n++;
    cells.push(
      `${v.name}: ${faces} face(s), detect ${dMs.toFixed(0)} ms, landmarks ${lMs.toFixed(0)} ms, quad ${error.toFixed(2)}%`,
    );
  }
  console.log(`${c.photo}\n  ${cells.join('\n  ')}`);
}
const [a, b] = variants.map((v) => totals.get(v.name)!);
for (const v of variants) {
  const t = totals.get(v.name)!;
  console.log(
    `${v.name.padEnd(6)}  detect ${t.detect.toFixed(0)} ms, landmarks ${t.landmarks.toFixed(0)} ms over ${CASES.length} photos; quad error worst ${t.worst.toFixed(2)}%, mean ${(t.sum / t.n).toFixed(2)}%`,
  );
}
console.log(
  `now / before: detect ${(b!.detect / a!.detect).toFixed(2)}×, landmarks ${(b!.landmarks / a!.landmarks).toFixed(2)}× (best of ${REPS}, landmarks include face-api's first guess)`,
);
