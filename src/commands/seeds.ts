/** Fresh randomness for re-rolls and random styles: from `crypto`, and always recorded. */
import { randomBytes, randomInt } from 'node:crypto';
import { type StyleChoice, type StyleInfo, UserError } from '../engine/index.ts';

/** A new seed: 12 hex digits, short enough to show under a result. */
export const newSeed = (): string => randomBytes(6).toString('hex');

/** A random exemplar id of `pack`, other than `current` when there is another. */
export function otherExemplar(pack: StyleInfo, current?: number): number {
  const count = pack.exemplars.length;
  if (current === undefined || current < 0 || current >= count) return randomInt(count);
  if (count < 2) throw new UserError('single-exemplar', pack.name);
  // Draw from the others: ids past `current` shift up by one.
  const id = randomInt(count - 1);
  return id >= current ? id + 1 : id;
}

/**
 * A new random style: sampled with fresh seeds, or, for a pack without a sampler, a random
 * exemplar (other than `current`).
 */
export function randomStyle(pack: StyleInfo, current?: number): StyleChoice {
  if (pack.hasSampler) {
    return { kind: 'sampled', pack: pack.name, structureSeed: newSeed(), colorSeed: newSeed() };
  }
  return { kind: 'exemplar', pack: pack.name, exemplar: otherExemplar(pack, current) };
}
