import { numel, type DType, type LazyTensor, type StateDict } from '../../checkpoint/tensor.ts';
import type { DemoSize } from '../../pack/demo-packs.ts';
import { createRng, type Rng } from '../../random.ts';

/**
 * Demo checkpoints: seeded random weights laid out exactly like the released DualStyleGAN
 * files (same keys, same order, same shapes for size 1024), so that tests, benchmarks and
 * the offline fallback build "demo packs" through the very code path real checkpoints take.
 * The key rules follow docs/dualstylegan.md and the reference implementation.
 */

export interface DemoProfile {
  readonly size: DemoSize;
  /** Latent (style) dimension D. */
  readonly styleDim: number;
  /** Mapping depth; T_s has `nMlp − 6` layers. */
  readonly nMlp: number;
  /** Generator channels by resolution, 4 … size. */
  readonly channels: Readonly<Record<number, number>>;
  /** IR-SE-50 stage widths (units 3/4/14/3); the input layer has the first stage's width. */
  readonly encoderStages: readonly [number, number, number, number];
  /** FPN lateral width; must equal the last stage's width because p2 = up(c3) + lateral(c2). */
  readonly fpnWidth: number;
  /** Style-head conv width; each head ends in EqualLinear(headWidth → styleDim). */
  readonly headWidth: number;
  readonly samplerZ: number;
  readonly samplerHidden: number;
}

/**
 * One table per profile.
 * - 1024: the official release.
 * - 64: the narrowed reference fixture (test/fixtures/reference-tiny64), key for key.
 * - 256: ours, for end-to-end tests that want a real-looking image: narrow enough that a
 *   256² synthesis is ~2 GMAC and building it takes milliseconds, wide enough (D = 128,
 *   128 channels through the ModRes resolutions) that no layer is degenerate.
 */
export const DEMO_PROFILES: Readonly<Record<DemoSize, DemoProfile>> = {
  1024: {
    size: 1024,
    styleDim: 512,
    nMlp: 8,
    channels: { 4: 512, 8: 512, 16: 512, 32: 512, 64: 512, 128: 256, 256: 128, 512: 64, 1024: 32 },
    encoderStages: [64, 128, 256, 512],
    fpnWidth: 512,
    headWidth: 512,
    samplerZ: 128,
    samplerHidden: 128,
  },
  256: {
    size: 256,
    styleDim: 128,
    nMlp: 8,
    channels: { 4: 128, 8: 128, 16: 128, 32: 128, 64: 64, 128: 32, 256: 32 },
    encoderStages: [32, 32, 64, 128],
    fpnWidth: 128,
    headWidth: 64,
    samplerZ: 128,
    samplerHidden: 128,
  },
  64: {
    size: 64,
    styleDim: 64,
    nMlp: 8,
    channels: { 4: 64, 8: 64, 16: 32, 32: 32, 64: 32 },
    encoderStages: [16, 16, 32, 64],
    fpnWidth: 64,
    headWidth: 32,
    samplerZ: 128,
    samplerHidden: 128,
  },
};

export interface DemoOptions {
  size: DemoSize;
  /** Default 0. Every tensor is a pure function of (seed, file, key). */
  seed?: number;
  /** Number of exemplar codes, default 8. */
  exemplars?: number;
}

export interface DemoEncoder {
  stateDict: StateDict;
  latentAvg: LazyTensor;
  opts: Map<string, unknown>;
}

export interface DemoCheckpoints {
  /** `encoder.pt`: the `encoder.*` keys only, see {@link demoCheckpoints}. */
  encoder: DemoEncoder;
  /** `encoder_wplus.pt`: the same layout, other weights (its codes are used as W+). */
  encoderWPlus: DemoEncoder;
  /** `<style>/generator.pt`'s `g_ema` state dict. */
  generator: StateDict;
  /** `<style>/sampler.pt`. */
  sampler: { structure: StateDict; color: StateDict };
  /** `<style>/exstyle_code.npy`: name → [1, n_latent, D] z+ code, in style-id order. */
  exstyleCodes: Map<string, LazyTensor>;
  profile: DemoProfile;
  nLatent: number;
}

/** Slots 0..6 are structure slots (ModRes + T_s), 7..n−1 colour slots (T_c). */
const STRUCTURE_SLOTS = 7;
const IR_SE_50_UNITS = [3, 4, 14, 3] as const;
const SE_REDUCTION = 16;
/** The encoder always sees 256² and taps c3 at 16², p2 at 32², p1 at 64². */
const HEAD_INPUT = { coarse: 16, middle: 32, fine: 64 } as const;
/** Stands in for the reference's zero-initialised biases and strengths: small but nonzero. */
const BIAS_STD = 0.1;
const MAPPING_LR_MUL = 0.01;

/**
 * Builds the demo checkpoints. Nothing is materialised here: each tensor's `float32()` fills
 * a fresh array from its own seed (derived from `seed`, the file and the key) on every call,
 * so the 1024 profile (~345 M values) never sits in memory at once, and any single tensor
 * can be read without generating the ones before it.
 *
 * The encoder's `decoder.*` half (a full StyleGAN2 that pSp trains against) is left out on
 * purpose: stylization never runs it, and the readers only need `encoder.*` and `latent_avg`.
 */
export function demoCheckpoints(options: DemoOptions): DemoCheckpoints {
  const profile = DEMO_PROFILES[options.size];
  if (profile === undefined)
    throw new RangeError(`no demo profile for size ${String(options.size)}`);
  const seed = options.seed ?? 0;
  const exemplars = options.exemplars ?? 8;
  if (!Number.isSafeInteger(seed))
    throw new RangeError(`demo seed must be an integer, got ${seed}`);
  if (!Number.isSafeInteger(exemplars) || exemplars < 0) {
    throw new RangeError(`exemplars must be a non-negative integer, got ${exemplars}`);
  }
  if (profile.fpnWidth !== profile.encoderStages[3])
    throw new Error('fpnWidth must equal the last stage width');
  const nLatent = 2 * Math.log2(profile.size) - 2;
  const file = (name: string): DictBuilder => new DictBuilder(`dualstylegan-demo/${seed}/${name}`);

  const encoder = (name: string): DemoEncoder => {
    const latentAvg = file(name);
    latentAvg.add('latent_avg', [nLatent, profile.styleDim], normal(1));
    return {
      stateDict: encoderDict(file(name), profile, nLatent),
      latentAvg: latentAvg.get('latent_avg'),
      // The pSp options a reader looks at; the released files carry many more (training ones).
      opts: new Map<string, unknown>([
        ['encoder_type', 'GradualStyleEncoder'],
        ['dataset_type', 'ffhq_encode'],
        ['input_nc', 3],
        ['label_nc', 0],
        ['output_size', profile.size],
        ['n_styles', nLatent],
        ['start_from_latent_avg', true],
        ['learn_in_w', false],
      ]),
    };
  };
  const codes = file('exstyle_code.npy');
  const digits = Math.max(2, String(exemplars - 1).length);
  for (let i = 0; i < exemplars; i++) {
    const name = `demo-${String(i).padStart(digits, '0')}.jpg`;
    codes.add(name, [1, nLatent, profile.styleDim], normal(1));
  }

  return {
    encoder: encoder('encoder.pt'),
    encoderWPlus: encoder('encoder_wplus.pt'),
    generator: generatorDict(file('generator.pt'), profile, nLatent),
    sampler: {
      structure: samplerDict(file('sampler.pt/structure'), profile, STRUCTURE_SLOTS),
      color: samplerDict(file('sampler.pt/color'), profile, nLatent - STRUCTURE_SLOTS),
    },
    exstyleCodes: codes.dict,
    profile,
    nLatent,
  };
}

// ---------------------------------------------------------------------------------------------
// Values

type Fill = (rng: Rng, out: Float32Array) => void;

const normal =
  (std: number, mean = 0): Fill =>
  (rng, out) =>
    rng.fillNormal(out, std, mean);
const constant =
  (value: number): Fill =>
  (_rng, out) =>
    out.fill(value);
/** Uniform in base·[1 − spread, 1 + spread): for values that must stay positive. */
const around =
  (base: number, spread: number): Fill =>
  (rng, out) => {
    for (let i = 0; i < out.length; i++) out[i] = base * (1 + spread * (2 * rng.uniform() - 1));
  };
/** The StyleGAN2 blur/upsample buffer: outer([1,3,3,1])/64, ×4 as it follows a 2× upsample. */
const blurKernel: Fill = (_rng, out) => {
  const k = [1, 3, 3, 1];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) out[i * 4 + j] = (k[i]! * k[j]!) / 16;
};
/** N(0, BIAS_STD²) plus `add` at the given flat indices. */
const jittered =
  (add: number, at: (i: number) => number, count: number): Fill =>
  (rng, out) => {
    rng.fillNormal(out, BIAS_STD);
    for (let i = 0; i < count; i++) out[at(i)]! += add;
  };
/** Plain nn.Linear / nn.Conv2d weights (no run-time scale): N(0, 1/fan_in). */
const plain = (fanIn: number): Fill => normal(1 / Math.sqrt(fanIn));

class DictBuilder {
  readonly dict = new Map<string, LazyTensor>();

  constructor(private readonly namespace: string) {}

  add(key: string, shape: readonly number[], fill: Fill, dtype: DType = 'float32'): void {
    if (this.dict.has(key)) throw new Error(`duplicate demo key ${key}`);
    const frozen = Object.freeze([...shape]);
    const seed = `${this.namespace}/${key}`;
    const size = numel(frozen);
    this.dict.set(key, {
      dtype,
      shape: frozen,
      float32: () => {
        const out = new Float32Array(size);
        fill(createRng(seed), out);
        return out;
      },
    });
  }

  get(key: string): LazyTensor {
    const t = this.dict.get(key);
    if (t === undefined) throw new Error(`demo key ${key} was not built`);
    return t;
  }

  /** Equalized-lr linear: raw N(0,1)/lr_mul so that W·lr_mul/√in is unit-variance per input. */
  equalLinear(prefix: string, out: number, inp: number, lrMul = 1): void {
    this.add(`${prefix}.weight`, [out, inp], normal(1 / lrMul));
    this.add(`${prefix}.bias`, [out], normal(BIAS_STD));
  }

  batchNorm(prefix: string, channels: number): void {
    this.add(`${prefix}.weight`, [channels], around(1, 0.1));
    this.add(`${prefix}.bias`, [channels], normal(BIAS_STD));
    this.add(`${prefix}.running_mean`, [channels], normal(BIAS_STD));
    this.add(`${prefix}.running_var`, [channels], around(1, 0.2));
    this.add(`${prefix}.num_batches_tracked`, [], constant(0), 'int64');
  }

  /** PReLU slopes around 0.25 (the default), per channel so broadcasting bugs show. */
  prelu(key: string, channels: number): void {
    this.add(key, [channels], around(0.25, 0.2));
  }
}

// ---------------------------------------------------------------------------------------------
// generator.pt: DualStyleGAN(size, D, n_mlp, res_index=6)

function generatorDict(b: DictBuilder, p: DemoProfile, nLatent: number): StateDict {
  const D = p.styleDim;
  const ch = (res: number): number => {
    const c = p.channels[res];
    if (c === undefined) throw new Error(`demo profile ${p.size} has no channels for ${res}px`);
    return c;
  };
  // Resolution of the conv driven by slot k (k < n−1): conv1 at 4 px, then two per resolution.
  const slotRes = (k: number): number => (k === 0 ? 4 : 2 ** (((k + 1) >> 1) + 2));

  for (let i = 1; i <= p.nMlp - 6; i++) b.equalLinear(`style.${i}`, D, D, MAPPING_LR_MUL);
  for (let i = 1; i <= p.nMlp; i++) b.equalLinear(`generator.style.${i}`, D, D, MAPPING_LR_MUL);
  b.add('generator.input.input', [1, ch(4), 4, 4], normal(1));

  const modulated = (
    prefix: string,
    out: number,
    inp: number,
    k: number,
    upsample: boolean,
  ): void => {
    b.add(`${prefix}.conv.weight`, [1, out, inp, k, k], normal(1));
    if (upsample) b.add(`${prefix}.conv.blur.kernel`, [4, 4], blurKernel);
    b.add(`${prefix}.conv.modulation.weight`, [inp, D], normal(1));
    b.add(`${prefix}.conv.modulation.bias`, [inp], normal(BIAS_STD, 1));
  };
  const styledConv = (prefix: string, out: number, inp: number, upsample: boolean): void => {
    modulated(prefix, out, inp, 3, upsample);
    b.add(`${prefix}.noise.weight`, [1], normal(BIAS_STD / 2));
    b.add(`${prefix}.activate.bias`, [out], normal(BIAS_STD));
  };
  const toRgb = (prefix: string, inp: number, upsample: boolean): void => {
    // ToRGB registers its bias and skip upsampler before the conv, hence this order.
    b.add(`${prefix}.bias`, [1, 3, 1, 1], normal(BIAS_STD));
    if (upsample) b.add(`${prefix}.upsample.kernel`, [4, 4], blurKernel);
    b.add(`${prefix}.conv.weight`, [1, 3, inp, 1, 1], normal(1));
    b.add(`${prefix}.conv.modulation.weight`, [inp, D], normal(1));
    b.add(`${prefix}.conv.modulation.bias`, [inp], normal(BIAS_STD, 1));
  };

  styledConv('generator.conv1', ch(4), ch(4), false);
  toRgb('generator.to_rgb1', ch(4), false);
  const resolutions: number[] = [];
  for (let res = 8; res <= p.size; res *= 2) resolutions.push(res);
  resolutions.forEach((res, i) => {
    styledConv(`generator.convs.${2 * i}`, ch(res), ch(res / 2), true);
    styledConv(`generator.convs.${2 * i + 1}`, ch(res), ch(res), false);
  });
  resolutions.forEach((res, i) => toRgb(`generator.to_rgbs.${i}`, ch(res), true));
  for (let j = 0; j < nLatent - 1; j++) {
    const r = slotRes(j);
    b.add(`generator.noises.noise_${j}`, [1, 1, r, r], normal(1));
  }

  // ModRes blocks; their convs are EqualConv2d, scaled down (the reference starts them near
  // zero) so the residual changes the image without swamping it.
  for (let k = 0; k < STRUCTURE_SLOTS; k++) {
    const c = ch(slotRes(k));
    b.add(`res.${k}.conv.0.weight`, [c, c, 3, 3], normal(0.2));
    b.add(`res.${k}.conv.1.bias`, [c], normal(BIAS_STD));
    b.add(`res.${k}.conv2.0.weight`, [c, c, 3, 3], normal(0.2));
    b.add(`res.${k}.conv2.1.bias`, [c], normal(BIAS_STD));
    for (const norm of ['norm', 'norm2']) {
      b.add(`res.${k}.${norm}.style.weight`, [2 * c, D], plain(D));
      // AdaIN's [γ, β] bias starts at [1, 0] in the reference.
      b.add(
        `res.${k}.${norm}.style.bias`,
        [2 * c],
        jittered(1, (i) => i, c),
      );
    }
  }
  for (let k = STRUCTURE_SLOTS; k < nLatent; k++) {
    // Near identity (eye·√D, which equalized lr scales by 1/√D) as the reference initialises
    // T_c, jittered so the colour transform is visibly not an identity.
    b.add(
      `res.${k}.weight`,
      [D, D],
      jittered(Math.sqrt(D), (i) => i * D + i, D),
    );
    b.add(`res.${k}.bias`, [D], normal(BIAS_STD));
  }
  return b.dict;
}

// ---------------------------------------------------------------------------------------------
// encoder.pt: pSp GradualStyleEncoder(50, 'ir_se'), `encoder.*` keys

function encoderDict(b: DictBuilder, p: DemoProfile, nLatent: number): StateDict {
  const [w1, w2, w3, w4] = p.encoderStages;
  const e = 'encoder';
  const conv = (key: string, out: number, inp: number, k: number): void =>
    b.add(key, [out, inp, k, k], plain(inp * k * k));

  conv(`${e}.input_layer.0.weight`, w1, 3, 3);
  b.batchNorm(`${e}.input_layer.1`, w1);
  b.prelu(`${e}.input_layer.2.weight`, w1);

  let unit = 0;
  let inp = w1;
  IR_SE_50_UNITS.forEach((units, stage) => {
    const out = p.encoderStages[stage]!;
    if (out % SE_REDUCTION !== 0)
      throw new Error(`encoder width ${out} is not a multiple of ${SE_REDUCTION}`);
    for (let u = 0; u < units; u++, unit++) {
      const pre = `${e}.body.${unit}`;
      // Equal widths use a parameterless MaxPool shortcut; only a width change has keys.
      if (inp !== out) {
        conv(`${pre}.shortcut_layer.0.weight`, out, inp, 1);
        b.batchNorm(`${pre}.shortcut_layer.1`, out);
      }
      b.batchNorm(`${pre}.res_layer.0`, inp);
      conv(`${pre}.res_layer.1.weight`, out, inp, 3);
      b.prelu(`${pre}.res_layer.2.weight`, out);
      conv(`${pre}.res_layer.3.weight`, out, out, 3);
      b.batchNorm(`${pre}.res_layer.4`, out);
      conv(`${pre}.res_layer.5.fc1.weight`, out / SE_REDUCTION, out, 1);
      conv(`${pre}.res_layer.5.fc2.weight`, out, out / SE_REDUCTION, 1);
      inp = out;
    }
  });

  // Style heads: stride-2 convs (LeakyReLU between, hence the even indices) down to 1×1.
  for (let i = 0; i < nLatent; i++) {
    const spatial =
      i < 3 ? HEAD_INPUT.coarse : i < STRUCTURE_SLOTS ? HEAD_INPUT.middle : HEAD_INPUT.fine;
    const pre = `${e}.styles.${i}`;
    for (let j = 0; j < Math.log2(spatial); j++) {
      const cin = j === 0 ? w4 : p.headWidth;
      conv(`${pre}.convs.${2 * j}.weight`, p.headWidth, cin, 3);
      b.add(`${pre}.convs.${2 * j}.bias`, [p.headWidth], normal(BIAS_STD));
    }
    b.equalLinear(`${pre}.linear`, p.styleDim, p.headWidth);
  }
  conv(`${e}.latlayer1.weight`, p.fpnWidth, w3, 1);
  b.add(`${e}.latlayer1.bias`, [p.fpnWidth], normal(BIAS_STD));
  conv(`${e}.latlayer2.weight`, p.fpnWidth, w2, 1);
  b.add(`${e}.latlayer2.bias`, [p.fpnWidth], normal(BIAS_STD));
  return b.dict;
}

// ---------------------------------------------------------------------------------------------
// sampler.pt: _netT(z, slots·D); the reference's lin layers have no bias

function samplerDict(b: DictBuilder, p: DemoProfile, slots: number): StateDict {
  const h = p.samplerHidden;
  b.add('lin1.weight', [h, p.samplerZ], plain(p.samplerZ));
  b.batchNorm('bn1', h);
  b.add('lin2.weight', [h, h], plain(h));
  b.batchNorm('bn2', h);
  b.add('lin_out.weight', [slots * p.styleDim, h], plain(h));
  return b.dict;
}
