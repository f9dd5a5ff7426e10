/**
 * The instant preview. DualStyleGAN's generator is a StyleGAN2 skip generator: the running RGB
 * sum after each ToRGB is already the picture at that resolution, and later layers add detail.
 * Cutting `generator.onnx` after the ToRGB at a quarter of the output side gives a head graph
 * (that picture, about half the generator's work at 1024²) and a tail graph (the rest), which
 * together do exactly the full generator's work.
 */
import onnxProto from 'onnx-proto';
import { splitModel, type SplitModel } from '../onnx/split.ts';

const { onnx } = onnxProto;

/** The preview's side for an output side: two octaves down (1024 → 256, 256 → 64). */
export const previewSize = (size: number): number => size / 4;

/** The head's extra output: the RGB skip sum at {@link previewSize}, [B,3,s,s]. */
export const PREVIEW_OUTPUT = 'preview';

/**
 * Splits a built `generator.onnx` after the ToRGB at `preview`² (a power of two, at least 8 and
 * under the output side): `to_rgbs.k` adds its upsampled input skip, so the skip at `preview`²
 * is the first input of `to_rgbs.(k+1)`'s upsampling, found by that layer's kernel weight
 * (`to_rgbs.k` works at 2^(k+3)).
 */
export function splitGenerator(model: Uint8Array, preview: number): SplitModel {
  const k = Math.log2(preview) - 3;
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`no ToRGB at ${preview}²`);
  const kernel = `generator.to_rgbs.${k + 1}.upsample.kernel`;
  const graph = onnx.ModelProto.decode(model).graph!;
  // Weight names carry the builder's scope in front of the state-dict key.
  const upsample = (graph.node ?? []).find(
    (n) => n.opType === 'ConvTranspose' && n.input?.[1]?.endsWith(kernel),
  );
  if (!upsample) throw new RangeError(`the generator has no ToRGB above ${preview}²`);
  return splitModel(model, upsample.input![0]!, PREVIEW_OUTPUT);
}
