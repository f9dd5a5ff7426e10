/**
 * A bounded fuzzing pass over every parser of untrusted input (see properties.ts). `npm run
 * fuzz` runs the same properties far longer; FUZZ_RUNS and FUZZ_SEED apply to both.
 */
import { after, describe, it } from 'node:test';
import { fuzzDir, fuzzTargets } from './properties.ts';

// Enough to reach every branch the generators aim at, small enough for `npm test`.
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

describe('fuzzing: every input ends in a result or the component’s typed error', () => {
  const { dir, cleanup } = fuzzDir();
  after(cleanup);
  for (const target of fuzzTargets(dir)) {
    it(target.name, { timeout: 60_000 }, () => target.run(RUNS, SEED));
  }
});
