/**
 * Named per-slot weight presets: how much of the exemplar's structure (the first `nStructure`
 * slots: shapes) and colour (the rest) the extrinsic path takes. `nStructure` comes from the
 * pack's manifest, never a constant.
 */
import { z } from 'zod';

export const weightPreset = z.enum(['full', 'colour-only', 'structure-only', 'gentle']);
export type WeightPreset = z.infer<typeof weightPreset>;

/** Structure and colour weight of each preset, and what it is for (shown to users). */
export const WEIGHT_PRESETS: Readonly<
  Record<WeightPreset, { structure: number; color: number; description: string }>
> = {
  full: { structure: 1, color: 1, description: 'all of the style: shapes and colours' },
  // The authors' advice for keeping a face recognisable: no structure, all colour.
  'colour-only': { structure: 0, color: 1, description: "the style's colours on your own shapes" },
  'structure-only': { structure: 1, color: 0, description: "the style's shapes, not its colours" },
  gentle: { structure: 0.5, color: 1, description: 'half the shapes, all the colours' },
};

/** The weight vector of a preset for a pack with `nLatent` slots, `nStructure` of them shapes. */
export function presetWeights(preset: WeightPreset, nLatent: number, nStructure: number): number[] {
  const { structure, color } = WEIGHT_PRESETS[preset];
  return Array.from({ length: nLatent }, (_, k) => (k < nStructure ? structure : color));
}
