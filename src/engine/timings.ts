/** Where a job's time went, stage by stage, as results report it. */

/** Per-stage wall time in milliseconds. */
export type Timings = Partial<
  Record<
    | 'load'
    | 'decode'
    | 'detect'
    | 'align'
    | 'encode'
    | 'sample'
    | 'map'
    | 'generate'
    | 'paste'
    | 'output',
    number
  >
>;

/** Adds a step's wall time to `timings[stage]`. */
export async function timed<T>(
  timings: Timings,
  stage: keyof Timings,
  step: () => Promise<T>,
): Promise<T> {
  const start = performance.now();
  try {
    return await step();
  } finally {
    timings[stage] = (timings[stage] ?? 0) + performance.now() - start;
  }
}
