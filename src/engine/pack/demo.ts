/**
 * DualStyleGAN's demo weights, at the path tests and benches import them from; they live in
 * the family (families/dualstylegan/demo-weights.ts).
 */
export type { DemoSize } from './demo-packs.ts';
export * from '../families/dualstylegan/demo-weights.ts';
