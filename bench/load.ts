/**
 * `npm run bench:load`: a bounded loopback load test of queue mode. For 1, 2 and 3 `pastiche
 * worker` processes (demo pack, local Redis), submits JOBS jobs from 10 users at once through a
 * RemoteEngine and reports jobs/s and p50/p95 latency (submit → result). On a 2-core box the CPU
 * caps it: a third worker only adds contention.
 */
import { cpus } from 'node:os';
import { loopback } from '../test/queue/harness.ts';

const JOBS = Number(process.env.LOAD_JOBS ?? 60);
const SIZE = process.env.LOAD_SIZE === '256' ? 256 : 64;
/** Bounded: a run that takes longer than this is reported as failed. */
const RUN_LIMIT_MS = 120_000;

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function run(workers: number): Promise<string> {
  const lb = await loopback({ size: SIZE });
  try {
    await Promise.all(Array.from({ length: workers }, () => lb.startWorker()));
    const engine = await lb.engine();
    // One warm-up job per worker, so model loading is not measured.
    await Promise.all(
      Array.from({ length: workers * 2 }, (_, i) =>
        engine.stylize({
          userId: 'load:warm',
          face: { kind: 'random', seed: `w${i}` },
          style: { kind: 'exemplar', pack: `demo-${SIZE}` },
        }),
      ),
    );
    const start = performance.now();
    const latencies = await Promise.all(
      Array.from({ length: JOBS }, async (_, i) => {
        const t0 = performance.now();
        await engine.stylize({
          userId: `load:user${i % 10}`,
          face: { kind: 'random', seed: `j${i}` },
          style: { kind: 'exemplar', pack: `demo-${SIZE}` },
        });
        return performance.now() - t0;
      }),
    );
    const wallS = (performance.now() - start) / 1000;
    if (wallS * 1000 > RUN_LIMIT_MS) throw new Error('over the run limit');
    const sorted = latencies.sort((a, b) => a - b);
    return `| ${workers} | ${JOBS} | ${(JOBS / wallS).toFixed(1)} | ${Math.round(percentile(sorted, 50))} | ${Math.round(percentile(sorted, 95))} |`;
  } finally {
    await lb.close();
  }
}

console.log(
  `queue-mode load test: demo-${SIZE}, ${JOBS} jobs from 10 users, ${cpus().length} cores, 1 ONNX thread per worker\n`,
);
console.log('| workers | jobs | jobs/s | p50 ms | p95 ms |');
console.log('|---|---|---|---|---|');
for (const workers of [1, 2, 3]) console.log(await run(workers));
