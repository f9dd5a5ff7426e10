/**
 * DualStyleGAN's style step, in the engine's process: each style's z+ code (an exemplar of the
 * pack, a sampled style, a user's image, or a fusion of two), mapped to W+ by the extrinsic path
 * (with preserve colour where asked), and the per-slot structure/colour weights.
 */
import { UserError } from '../../errors.ts';
import { blendCodes } from '../../fusion.ts';
import type { StyleManifest } from '../../pack/manifest.ts';
import { generatorSettings, type StyleChoice, type StylePart } from '../../request.ts';
import type { StyleUsed } from '../../results.ts';
import type { GenerateInput } from '../../runtime/loaded.ts';
import { formatStyleRef, type ReferableStyle } from '../../style-ref.ts';
import { timed } from '../../timings.ts';
import type { StyleJob, StyledInputs } from '../types.ts';
import { sha256 } from '../../hash.ts';

/** Every style (tile) × every face: its exemplar code mapped, and the generator settings. */
export async function styleInputs(job: StyleJob): Promise<StyledInputs> {
  const { req, manifest: m, ctx } = job;
  const exstyles = [];
  for (const choice of [req.style, ...(req.variants ?? [])]) {
    exstyles.push(await exstyle(job, choice));
  }
  const inputs: GenerateInput[] = [];
  for (const style of exstyles) {
    for (const code of job.codes) {
      const content = { code, isW: job.contentIsW };
      const { weights, truncation, keepColour } = generatorSettings(req, m, content);
      const mapped = await timed(job.timings, 'map', () =>
        job.host.call(
          'extrinsic',
          { pack: m.name, exemplar: style.code, ...(keepColour && { keepColour }) },
          ctx.signal,
        ),
      );
      inputs.push({
        content: code,
        contentIsW: job.contentIsW,
        exstyle: mapped,
        weights,
        truncation,
      });
    }
  }
  return {
    inputs,
    used: exstyles[0]!.used,
    ...(req.variants && { tiles: exstyles.map((e) => e.used) }),
  };
}

/** A style's z+ code and how to describe it; a copy the caller may modify. */
async function exstyle(
  job: StyleJob,
  choice: StyleChoice,
): Promise<{ code: Float32Array; used: StyleUsed }> {
  const m = job.manifest;
  if (choice.pack !== m.name) {
    throw new UserError('bad-option', `every style of one image comes from one pack (${m.name})`);
  }
  switch (choice.kind) {
    case 'image': {
      const key = sha256(choice.image);
      // Exemplar codes are z+ (the style's mapping maps them), so the style's own encoder.
      const cacheKey = `${job.styleEncoderChecksum}:${key}`;
      const shape = { nLatent: m.nLatent, styleDim: m.styleDim };
      let code = (await job.cache.getStyleCode(cacheKey, shape))?.code;
      if (!code) {
        code = await job.encodeStyleImage(choice.image);
        await job.cache.setStyleCode(cacheKey, code, { kind: 'image' }, job.req.userId);
      }
      return { code: code.slice(), used: described(m, { kind: 'cached-image', key }) };
    }
    case 'blend': {
      const a = await part(job, choice.a);
      const b = await part(job, choice.b);
      const ref: ReferableStyle = { ...choice, a: a.part, b: b.part };
      const blend = { a: described(m, a.part), b: described(m, b.part), ratio: choice.ratio };
      return {
        code: blendCodes(a.code, b.code, choice.ratio),
        used: { pack: m.name, kind: 'blend', blend, reference: formatStyleRef(ref) },
      };
    }
    default: {
      const { code, part: resolved } = await part(job, choice);
      return { code, used: described(m, resolved) };
    }
  }
}

/**
 * A style the pack (or the cache) holds: its z+ code, and the part with exemplar names
 * resolved to ids, so the reference printed is stable.
 */
async function part(
  job: StyleJob,
  style: StylePart,
): Promise<{ code: Float32Array; part: StylePart }> {
  const { manifest: m, ctx } = job;
  switch (style.kind) {
    case 'exemplar': {
      const id = resolveExemplar(m, style.exemplar);
      const code = await job.host.call('exemplar', { pack: m.name, id }, ctx.signal);
      return { code, part: { kind: 'exemplar', exemplar: id } };
    }
    case 'sampled': {
      const { structureSeed, colorSeed } = style;
      const code = await timed(job.timings, 'sample', () =>
        job.host.call('sample', { pack: m.name, structureSeed, colorSeed }, ctx.signal),
      );
      return { code, part: style };
    }
    case 'cached-image': {
      const key = `${job.styleEncoderChecksum}:${style.key}`;
      const code = (await job.cache.getStyleCode(key))?.code;
      if (!code) throw new UserError('photo-expired', style.key);
      return { code: code.slice(), part: style };
    }
  }
}

/** How a result describes a style of `m`'s pack, with its reference. */
function described(m: StyleManifest, part: StylePart): StyleUsed {
  const pack = m.name;
  const reference = formatStyleRef({ ...part, pack });
  switch (part.kind) {
    case 'exemplar': {
      const id = part.exemplar as number;
      return { pack, kind: 'exemplar', exemplar: { id, name: m.exemplars[id]! }, reference };
    }
    case 'sampled': {
      const { structureSeed, colorSeed } = part;
      return { pack, kind: 'sampled', structureSeed, colorSeed, reference };
    }
    case 'cached-image':
      return { pack, kind: 'image', imageKey: part.key, reference };
  }
}

/** An exemplar by id, or by file name with or without its extension (case-insensitive). */
export function resolveExemplar(m: StyleManifest, exemplar: number | string | undefined): number {
  if (exemplar === undefined) return 0;
  if (typeof exemplar === 'number') return exemplar;
  if (/^\d+$/.test(exemplar)) return Number(exemplar);
  const wanted = exemplar.toLowerCase();
  const id = m.exemplars.findIndex((name) => {
    const lower = name.toLowerCase();
    return lower === wanted || lower.replace(/\.[a-z]+$/, '') === wanted;
  });
  if (id < 0) throw new UserError('unknown-exemplar', `${m.name} has no exemplar ${exemplar}`);
  return id;
}
