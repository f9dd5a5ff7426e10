/**
 * `npm run fuzz`: long fuzzing runs of every parser of untrusted input (test/fuzz/properties.ts).
 * FUZZ_RUNS cases per component (default 2000), FUZZ_SEED to replay one; prints each component's
 * time and the process's peak RSS. A failure prints fast-check's counterexample and exits 1.
 *
 *   FUZZ_RUNS=20000 npm run fuzz
 */
import { fuzzDir, fuzzTargets } from '../test/fuzz/properties.ts';

const runs = Number(process.env.FUZZ_RUNS ?? 2000);
const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const only = process.argv[2];
const { dir, cleanup } = fuzzDir();
let failed = false;
try {
  for (const target of fuzzTargets(dir)) {
    if (only && !target.name.includes(only)) continue;
    const start = performance.now();
    try {
      await target.run(runs, seed);
      const ms = performance.now() - start;
      console.log(
        `${target.name}: ${runs} cases in ${(ms / 1000).toFixed(1)} s (${(ms / runs).toFixed(2)} ms/case)`,
      );
    } catch (error) {
      failed = true;
      console.error(`${target.name}: FAILED\n${(error as Error).message}`);
    }
  }
} finally {
  cleanup();
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
process.exitCode = failed ? 1 : 0;
