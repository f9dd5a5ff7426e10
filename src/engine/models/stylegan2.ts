/**
 * StyleGAN2 blocks (rosinality's `model.py`, which DualStyleGAN builds on), as ONNX graph code.
 * Names follow the state-dict keys so an error names the layer.
 */
import { type GraphBuilder, type Value } from '../onnx/builder.ts';
import {
  DEMOD_EPS,
  LRELU_GAIN,
  MAPPING_LR_MUL,
  channelConst,
  equalizedScale,
  leakyRelu,
  linear,
  pixelNorm,
  scaled,
  swapConvAxes,
} from './layers.ts';
import type { Params } from './params.ts';

/** PixelNorm then the EqualLinear stack `<p>.1 … <p>.n` (lr_mul 0.01, fused lrelu). */
export function mlp(g: GraphBuilder, x: Value, p: Params): Value {
  const depth = p.count('weight', 1);
  let h = pixelNorm(g, x);
  for (let i = 1; i <= depth; i++) {
    h = g.scope(`${i}`, () => linear(g, h, p.at(i), { lrMul: MAPPING_LR_MUL, activate: true }));
  }
  return h;
}

// The checkpoint's blur/upsample buffers hold upfirdn2d's [1,3,3,1] kernel, normalised and
// already multiplied by up² = 4 where it follows a 2× upsample.
const firKernel = (p: Params, key: string): Float32Array => p.get(key, 2).data;

/** A per-channel FIR filter [k, k] applied depthwise (upfirdn2d without up/down). */
function depthwise(
  g: GraphBuilder,
  x: Value,
  name: string,
  channels: number,
  kernel: Float32Array,
  pad: number,
): Value {
  const k = Math.round(Math.sqrt(kernel.length));
  const w = new Float32Array(channels * kernel.length);
  // upfirdn2d convolves (flips the kernel); ONNX Conv correlates.
  const flipped = kernel.slice().reverse();
  for (let c = 0; c < channels; c++) w.set(flipped, c * kernel.length);
  return g.op('Conv', [x, g.weight(name, [channels, 1, k, k], w)], {
    group: channels,
    kernel_shape: [k, k],
    pads: [pad, pad, pad, pad],
  });
}

/** 2× upsampling of the RGB skip: upfirdn2d(up=2, pad=(2,1)) as a depthwise transposed conv. */
function upsampleSkip(g: GraphBuilder, skip: Value, p: Params): Value {
  const kernel = firKernel(p, 'upsample.kernel');
  const channels = 3;
  const k = Math.round(Math.sqrt(kernel.length));
  const w = new Float32Array(channels * kernel.length);
  for (let c = 0; c < channels; c++) w.set(kernel, c * kernel.length);
  // upfirdn2d gives out[j] = Σ x[i]·K[j + 1 − 2i], which is ConvTranspose with pad 1 (→ 2H).
  return g.op(
    'ConvTranspose',
    [skip, g.weight(`${p.prefix}upsample.kernel`, [channels, 1, k, k], w)],
    {
      group: channels,
      kernel_shape: [k, k],
      strides: [2, 2],
      pads: [1, 1, 1, 1],
    },
  );
}

interface ModConv {
  out: number;
  in: number;
  k: number;
}

export function modConvShape(p: Params): ModConv {
  const [, out, inp, k] = p.shape('conv.weight', 5) as [number, number, number, number];
  return { out: out, in: inp, k };
}

/**
 * ModulatedConv2d in the non-fused form: `y = conv(x·s, W·scale) · d`, with the demodulation
 * `d = rsqrt(s² · W2ᵀ + ε)` computed from the constant `W2 = Σ_{kh,kw} (W·scale)²`. The conv
 * weight is a constant ONNX Runtime can pre-pack, and any batch size works.
 *
 * `gain` multiplies the output (a folded activation gain); it is applied through `d`.
 */
function modulatedConv(
  g: GraphBuilder,
  x: Value,
  style: Value,
  p: Params,
  o: { demodulate: boolean; upsample: boolean; gain?: number },
): Value {
  const { out, in: inp, k } = modConvShape(p);
  const w = p.get('conv.weight', 5);
  const scale = equalizedScale(w.shape.slice(1));
  const weight = scaled(w.data, scale);
  const s = linear(g, style, p.at('conv.modulation'));
  const xs = g.op('Mul', [x, g.op('Unsqueeze', [s, g.constInt([2, 3])])]);
  let y: Value;
  if (o.upsample) {
    // conv_transpose2d(stride 2, pad 0) then a blur with pad (1,1): 2H+1 → 2H.
    y = g.op(
      'ConvTranspose',
      [
        xs,
        g.weight(`${p.prefix}conv.weight`, [inp, out, k, k], swapConvAxes(weight, out, inp, k * k)),
      ],
      {
        kernel_shape: [k, k],
        strides: [2, 2],
      },
    );
  } else {
    const pad = Math.floor(k / 2);
    y = g.op('Conv', [xs, g.weight(`${p.prefix}conv.weight`, [out, inp, k, k], weight)], {
      kernel_shape: [k, k],
      pads: [pad, pad, pad, pad],
    });
  }
  const gain = o.gain ?? 1;
  if (o.demodulate) {
    const w2 = new Float32Array(inp * out);
    for (let oc = 0; oc < out; oc++) {
      for (let ic = 0; ic < inp; ic++) {
        let sum = 0;
        for (let t = 0; t < k * k; t++) sum += weight[(oc * inp + ic) * k * k + t]! ** 2;
        // [in, out] for s² · W2ᵀ; dividing by gain² makes rsqrt return gain · d.
        w2[ic * out + oc] = sum / gain ** 2;
      }
    }
    const energy = g.op('MatMul', [
      g.op('Mul', [s, s]),
      g.weight(`${p.prefix}conv.weight_sq`, [inp, out], w2),
    ]);
    const d = g.op('Reciprocal', [
      g.op('Sqrt', [g.op('Add', [energy, g.constFloat([DEMOD_EPS / gain ** 2])])]),
    ]);
    y = g.op('Mul', [y, g.op('Unsqueeze', [d, g.constInt([2, 3])])]);
  } else if (gain !== 1) {
    throw new Error('a gain needs demodulation to fold into');
  }
  if (o.upsample) {
    y = depthwise(g, y, `${p.prefix}conv.blur.kernel`, out, firKernel(p, 'conv.blur.kernel'), 1);
  }
  return y;
}

/**
 * StyledConv: modulated conv → noise injection → fused leaky ReLU. The √2 activation gain is
 * folded into the demodulation, the noise strength and the bias (lrelu(k·y) = k·lrelu(y)).
 * `noise` is a [1,1,H,W] graph input, so a caller may supply fresh noise.
 */
export function styledConv(
  g: GraphBuilder,
  x: Value,
  style: Value,
  noise: Value,
  p: Params,
  upsample: boolean,
): Value {
  let y = modulatedConv(g, x, style, p, { demodulate: true, upsample, gain: LRELU_GAIN });
  const strength = p.get('noise.weight', 1);
  y = g.op('Add', [
    y,
    g.op('Mul', [
      noise,
      g.weight(`${p.prefix}noise.weight`, [1], scaled(strength.data, LRELU_GAIN)),
    ]),
  ]);
  const bias = p.get('activate.bias', 1);
  y = g.op('Add', [y, channelConst(g, `${p.prefix}activate.bias`, scaled(bias.data, LRELU_GAIN))]);
  return leakyRelu(g, y);
}

/** ToRGB: a 1×1 modulated conv without demodulation, plus bias, plus the upsampled skip. */
export function toRgb(
  g: GraphBuilder,
  x: Value,
  style: Value,
  skip: Value | undefined,
  p: Params,
): Value {
  let y = modulatedConv(g, x, style, p, { demodulate: false, upsample: false });
  const bias = p.get('bias', 4);
  y = g.op('Add', [y, g.weight(`${p.prefix}bias`, bias.shape, bias.data)]);
  return skip ? g.op('Add', [y, upsampleSkip(g, skip, p)]) : y;
}

/** The synthesis network's layout, read from the state dict. */
export interface SynthesisLayout {
  /** Output resolution. */
  size: number;
  /** Number of latent slots (style vectors per image). */
  nLatent: number;
  styleDim: number;
  /** Number of noise inputs: conv1 plus every StyledConv. */
  nNoise: number;
  /** Resolution of each noise input. */
  noiseSizes: number[];
}

/** Derives the synthesis layout from `generator.*` keys (conv1, convs.N, noises). */
export function synthesisLayout(p: Params): SynthesisLayout {
  const styleDim = p.shape('conv1.conv.modulation.weight', 2)[1]!;
  const nConvs = p.at('convs').count('conv.weight');
  const nNoise = nConvs + 1;
  const noiseSizes = Array.from({ length: nNoise }, (_, i) => p.shape(`noises.noise_${i}`, 4)[2]!);
  const size = noiseSizes[nNoise - 1]!;
  const nLatent = nConvs + 2;
  p.expect('convs', 'number of StyledConvs', nConvs, 2 * (Math.log2(size) - 2));
  return { size, nLatent, styleDim, nNoise, noiseSizes };
}

/**
 * Builds `mapping.onnx`: `z` [N,D] → `w` [N,D], the mapping network applied row by row
 * (`p` is the generator's `generator.style` scope).
 */
export function buildMapping(g: GraphBuilder, p: Params): { styleDim: number; depth: number } {
  const styleDim = p.shape('1.weight', 2)[1]!;
  const z = g.input('z', ['N', styleDim]);
  g.output(
    g.scope(p.prefix.slice(0, -1), () => mlp(g, z, p)),
    'w',
    ['N', styleDim],
  );
  return { styleDim, depth: p.count('weight', 1) };
}
