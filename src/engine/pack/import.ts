/**
 * What every family's pack builder shares: provenance, verifying before the rename, and the
 * shared encoder pack (pSp's content encoder and the FFHQ mapping network), which every
 * StyleGAN-based family pairs its styles with. A family's own style packs are written in its
 * folder (families/<name>/); official checkpoints and demo weights go through the same code.
 */
import { createHash } from 'node:crypto';
import type { LazyTensor, StateDict } from '../checkpoint/tensor.ts';
import { Params } from '../models/params.ts';
import { buildEncoder, ENCODER_INPUT_SIZE } from '../models/psp.ts';
import { buildMapping } from '../models/stylegan2.ts';
import type { EncoderManifest, FileEntry, LatentSpace, Manifest } from './manifest.ts';
import { verifyPack } from './store.ts';
import { writePack } from './write.ts';

/** Where a pack came from, recorded in its manifest. */
export interface Provenance {
  sources: FileEntry[];
  licence: string;
  demo: boolean;
}

/**
 * Runs `models verify` on the written pack before it is renamed into place. Imports of files
 * from elsewhere (official checkpoints) do; demo packs, which Pastiche makes itself, skip the
 * forward passes and keep the file checks every commit does.
 */
export interface WriteOptions {
  runGraphs?: boolean;
}

export const verifyBeforeRename =
  (options: WriteOptions) =>
  async (dir: string, manifest: Manifest): Promise<void> => {
    if (options.runGraphs) await verifyPack({ dir, manifest });
  };

export interface EncoderSource {
  /** pSp's state dict: `encoder.*`, and `decoder.style.*` (the FFHQ mapping network). */
  stateDict: StateDict;
  /** Added to the encoder's output when the model was trained with `start_from_latent_avg`. */
  latentAvg: LazyTensor | undefined;
  file: string;
}

/** sha256 over the mapping network's weights in key order: equal digests, same network. */
export function mappingDigest(p: Params): string {
  const hash = createHash('sha256');
  const depth = p.count('weight', 1);
  for (let i = 1; i <= depth; i++) {
    for (const key of [`${i}.weight`, `${i}.bias`]) {
      const { data } = p.get(key);
      hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  }
  return hash.digest('hex');
}

/**
 * Writes a shared pack: `encoder.onnx` and `mapping.onnx` (from pSp's FFHQ decoder). `space`
 * says what the codes are; nothing in a checkpoint does (the release tells by file name).
 */
export async function writeEncoderPack(
  out: string,
  name: string,
  source: EncoderSource,
  provenance: Provenance,
  space: LatentSpace,
  options: WriteOptions = {},
): Promise<EncoderManifest> {
  return writePack(out, name, async (w) => {
    const p = new Params(source.stateDict, source.file);
    const latentAvg = source.latentAvg && {
      shape: source.latentAvg.shape,
      data: source.latentAvg.float32(),
    };
    const encoder = w.graph('encoder');
    const layout = buildEncoder(encoder, p.at('encoder'), latentAvg);
    w.saveGraph('encoder', encoder);
    const mappingParams = p.at('decoder.style');
    const mapping = w.graph('mapping');
    const { styleDim } = buildMapping(mapping, mappingParams);
    w.saveGraph('mapping', mapping);
    p.expect('decoder.style.1.weight', 'style dim', styleDim, layout.styleDim);
    return w.commit<EncoderManifest>(
      {
        kind: 'encoder',
        name,
        space,
        ...provenance,
        nLatent: layout.nLatent,
        styleDim: layout.styleDim,
        inputSize: ENCODER_INPUT_SIZE,
        mappingDigest: mappingDigest(mappingParams),
      },
      verifyBeforeRename(options),
    );
  });
}
