import { float, type GraphBuilder, type Value } from '../onnx/builder.ts';
import type { Param, Params } from './params.ts';

/** StyleGAN2's activation: leaky ReLU with slope 0.2, rescaled by √2 to keep the variance. */
export const LRELU_SLOPE = 0.2;
export const LRELU_GAIN = Math.SQRT2;
/** Learning-rate multiplier of the mapping network and of T_s (EqualLinear lr_mul). */
export const MAPPING_LR_MUL = 0.01;
export const PIXEL_NORM_EPS = 1e-8;
export const DEMOD_EPS = 1e-8;
export const BATCH_NORM_EPS = 1e-5;
export const INSTANCE_NORM_EPS = 1e-5;

/** `a · k` as a new array. */
export function scaled(a: Float32Array, k: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! * k;
  return out;
}

/** Transposes a row-major [rows, cols] matrix. */
export function transposed(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  }
  return out;
}

/** Swaps the first two axes of a conv weight [A, B, k, k] → [B, A, k, k]. */
export function swapConvAxes(w: Float32Array, a: number, b: number, k2: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      out.set(w.subarray((i * b + j) * k2, (i * b + j + 1) * k2), (j * a + i) * k2);
    }
  }
  return out;
}

/** Equalized learning rate: weights are stored unscaled and multiplied by 1/√fan_in at run time. */
export const equalizedScale = (shape: readonly number[]): number =>
  1 / Math.sqrt(shape.slice(1).reduce((a, b) => a * b, 1));

/** `[1, C, 1, 1]` view of a per-channel vector, for broadcasting over NCHW. */
export function channelConst(g: GraphBuilder, name: string, data: Float32Array): Value {
  return g.weight(name, [1, data.length, 1, 1], data);
}

/** `x · rsqrt(mean(x², last axis) + 1e-8)`. */
export function pixelNorm(g: GraphBuilder, x: Value): Value {
  const meanSq = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
  const norm = g.op('Sqrt', [g.op('Add', [meanSq, g.constFloat([PIXEL_NORM_EPS])])]);
  return g.op('Div', [x, norm]);
}

/** Leaky ReLU with StyleGAN2's slope; callers fold the √2 gain into the preceding weights. */
export const leakyRelu = (g: GraphBuilder, x: Value, slope = LRELU_SLOPE): Value =>
  g.op('LeakyRelu', [x], { alpha: float(slope) });

export interface LinearOptions {
  lrMul?: number;
  /** Apply StyleGAN2's fused leaky ReLU (bias, lrelu 0.2, ×√2). */
  activate?: boolean;
  /** Scale weights by 1/√fan_in (EqualLinear) or not (a plain nn.Linear). */
  equalized?: boolean;
}

/**
 * `x · Wᵀ + b` over the last axis, for EqualLinear and nn.Linear. Scales, lr_mul and the
 * activation gain are baked into the constants (lrelu(k·y) = k·lrelu(y) for k > 0).
 */
export function linear(g: GraphBuilder, x: Value, p: Params, options: LinearOptions = {}): Value {
  const { lrMul = 1, activate = false, equalized = true } = options;
  const w = p.get('weight', 2);
  const [out, inp] = w.shape as [number, number];
  const gain = activate ? LRELU_GAIN : 1;
  const k = (equalized ? lrMul / Math.sqrt(inp) : 1) * gain;
  let y = g.op('MatMul', [
    x,
    g.weight(`${p.prefix}weight`, [inp, out], scaled(transposed(w.data, out, inp), k)),
  ]);
  if (p.has('bias')) {
    const b = p.get('bias', 1);
    y = g.op('Add', [y, g.weight(`${p.prefix}bias`, [out], scaled(b.data, lrMul * gain))]);
  }
  return activate ? leakyRelu(g, y) : y;
}

export interface ConvOptions {
  stride?: number;
  pad?: number;
  /** Factor baked into the weight (an equalized-lr scale, a folded gain). */
  scale?: number;
  /** Bias, used as given. */
  bias?: Float32Array;
}

/** A 2-D convolution with a constant weight [Cout, Cin, k, k]. */
export function conv2d(
  g: GraphBuilder,
  x: Value,
  name: string,
  w: Param,
  o: ConvOptions = {},
): Value {
  const { stride = 1, scale = 1 } = o;
  const k = w.shape[2]!;
  const pad = o.pad ?? Math.floor(k / 2);
  const inputs = [x, g.weight(name, w.shape, scale === 1 ? w.data : scaled(w.data, scale))];
  if (o.bias) inputs.push(g.weight(`${name}.bias`, [o.bias.length], o.bias));
  return g.op('Conv', inputs, {
    kernel_shape: [k, w.shape[3]!],
    strides: [stride, stride],
    pads: [pad, pad, pad, pad],
  });
}

/** Eval-mode BatchNorm as the per-channel affine `x·a + c`. */
export function batchNormAffine(p: Params): { a: Float32Array; c: Float32Array } {
  const gamma = p.get('weight', 1).data;
  const beta = p.get('bias', 1).data;
  const mean = p.get('running_mean', 1).data;
  const variance = p.get('running_var', 1).data;
  const a = new Float32Array(gamma.length);
  const c = new Float32Array(gamma.length);
  for (let i = 0; i < a.length; i++) {
    a[i] = gamma[i]! / Math.sqrt(variance[i]! + BATCH_NORM_EPS);
    c[i] = beta[i]! - mean[i]! * a[i]!;
  }
  return { a, c };
}

/** Folds an eval-mode BatchNorm that follows a bias-free conv into the conv's weight and bias. */
export function foldBatchNorm(w: Param, bn: Params): { weight: Param; bias: Float32Array } {
  const { a, c } = batchNormAffine(bn);
  const perOut = w.data.length / a.length;
  const data = new Float32Array(w.data.length);
  for (let i = 0; i < data.length; i++) data[i] = w.data[i]! * a[Math.floor(i / perOut)]!;
  return { weight: { shape: w.shape, data }, bias: c };
}
