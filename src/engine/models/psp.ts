/**
 * The pSp encoder (GradualStyleEncoder over an IR-SE backbone, Richardson et al. 2021) as an
 * ONNX graph. Eval-mode BatchNorms are folded into the convolutions they follow.
 */
import { float, type GraphBuilder, type Value } from '../onnx/builder.ts';
import { CheckpointError } from '../checkpoint/errors.ts';
import { batchNormAffine, channelConst, conv2d, foldBatchNorm, linear } from './layers.ts';
import type { Param, Params } from './params.ts';

/** Input resolution of the encoder: pSp always sees a 256×256 aligned face. */
export const ENCODER_INPUT_SIZE = 256;
/** nn.LeakyReLU's default slope, used by the style heads. */
const HEAD_SLOPE = 0.01;

// Units per stage of the IR-SE backbones (pSp's get_blocks), keyed by their total unit count.
// The first unit of each stage has stride 2; stage boundaries cannot be read from widths alone
// (a stage may keep its width), so the depth variant is recognised by its unit count.
const STAGES: Record<number, readonly number[]> = {
  24: [3, 4, 14, 3], // IR-SE-50
  49: [3, 13, 30, 3], // IR-SE-100
  80: [3, 8, 36, 3], // IR-SE-152
};

export interface EncoderLayout {
  nLatent: number;
  styleDim: number;
  units: number;
}

/** Conv (bias-free) followed by a BatchNorm, as one conv with bias. */
function convBn(
  g: GraphBuilder,
  x: Value,
  w: Param,
  bn: Params,
  name: string,
  stride: number,
): Value {
  const { weight, bias } = foldBatchNorm(w, bn);
  return conv2d(g, x, name, weight, { stride, bias });
}

/** bottleneck_IR_SE: BN → conv3×3 → PReLU → conv3×3(stride) → BN → SE, plus the shortcut. */
function irSeUnit(g: GraphBuilder, x: Value, p: Params, stride: number): Value {
  const res = p.at('res_layer');
  // This BN precedes a zero-padded conv, so it cannot fold into it exactly: keep it as an affine.
  const bn0 = batchNormAffine(res.at(0));
  let h = g.op('Mul', [x, channelConst(g, `${res.prefix}0.scale`, bn0.a)]);
  h = g.op('Add', [h, channelConst(g, `${res.prefix}0.shift`, bn0.c)]);
  h = conv2d(g, h, `${res.prefix}1.weight`, res.get('1.weight', 4));
  const slope = res.get('2.weight', 1);
  h = g.op('PRelu', [h, g.weight(`${res.prefix}2.weight`, [slope.data.length, 1, 1], slope.data)]);
  h = convBn(g, h, res.get('3.weight', 4), res.at(4), `${res.prefix}3.weight`, stride);
  // Squeeze-and-excitation: a per-channel gate from the globally pooled features.
  let gate = g.op('GlobalAveragePool', [h]);
  gate = g.op('Relu', [conv2d(g, gate, `${res.prefix}5.fc1.weight`, res.get('5.fc1.weight', 4))]);
  gate = g.op('Sigmoid', [
    conv2d(g, gate, `${res.prefix}5.fc2.weight`, res.get('5.fc2.weight', 4)),
  ]);
  h = g.op('Mul', [h, gate]);

  let shortcut = x;
  if (p.has('shortcut_layer.0.weight')) {
    shortcut = convBn(
      g,
      x,
      p.get('shortcut_layer.0.weight', 4),
      p.at('shortcut_layer.1'),
      `${p.prefix}shortcut_layer.0.weight`,
      stride,
    );
  } else if (stride > 1) {
    shortcut = g.op('MaxPool', [x], { kernel_shape: [1, 1], strides: [stride, stride] });
  }
  return g.op('Add', [h, shortcut]);
}

/** GradualStyleBlock: stride-2 convs + LeakyReLU(0.01) down to 1×1, then an EqualLinear. */
function styleHead(g: GraphBuilder, x: Value, p: Params, convs: number): Value {
  let h = x;
  for (let j = 0; j < convs; j++) {
    const key = `convs.${2 * j}`;
    h = conv2d(g, h, `${p.prefix}${key}.weight`, p.get(`${key}.weight`, 4), {
      stride: 2,
      pad: 1,
      bias: p.get(`${key}.bias`, 1).data,
    });
    h = g.op('LeakyRelu', [h], { alpha: float(HEAD_SLOPE) });
  }
  return linear(g, g.op('Flatten', [h], { axis: 1 }), p.at('linear'));
}

/** F.interpolate(x, 2×, bilinear, align_corners=True) + a 1×1 lateral conv of `lateral`. */
function upsampleAdd(g: GraphBuilder, x: Value, lateral: Value, p: Params): Value {
  const up = g.op('Resize', [x, '', g.constFloat([1, 1, 2, 2])], {
    mode: 'linear',
    coordinate_transformation_mode: 'align_corners',
  });
  const lat = conv2d(g, lateral, `${p.prefix}weight`, p.get('weight', 4), {
    bias: p.get('bias', 1).data,
  });
  return g.op('Add', [up, lat]);
}

/**
 * Builds `encoder.onnx`: `image` [B,3,256,256] in [-1,1] → `codes` [B,n,D], the z+ content code
 * with `latentAvg` added (pass `undefined` when the checkpoint was trained without it).
 */
export function buildEncoder(
  g: GraphBuilder,
  p: Params,
  latentAvg: Param | undefined,
): EncoderLayout {
  const body = p.at('body');
  const units = body.count('res_layer.1.weight');
  const stages = STAGES[units];
  if (!stages) {
    throw new CheckpointError(
      'unsupported',
      p.file,
      `${units} IR-SE units in ${p.prefix}body: not a 50/100/152-layer backbone`,
    );
  }
  const nLatent = p.at('styles').count('linear.weight');
  const styleDim = p.shape('styles.0.linear.weight', 2)[0]!;

  const image = g.input('image', ['B', 3, ENCODER_INPUT_SIZE, ENCODER_INPUT_SIZE]);
  let x = g.scope('encoder.input_layer', () => {
    const h = convBn(
      g,
      image,
      p.get('input_layer.0.weight', 4),
      p.at('input_layer.1'),
      `${p.prefix}input_layer.0.weight`,
      1,
    );
    const slope = p.get('input_layer.2.weight', 1);
    return g.op('PRelu', [
      h,
      g.weight(`${p.prefix}input_layer.2.weight`, [slope.data.length, 1, 1], slope.data),
    ]);
  });
  // Feature taps at the end of stages 2, 3 and 4 (c1 64², c2 32², c3 16² for a 256² input).
  const taps: Value[] = [];
  let unit = 0;
  for (const count of stages) {
    for (let i = 0; i < count; i++, unit++) {
      const u = unit;
      x = g.scope(`encoder.body.${u}`, () => irSeUnit(g, x, body.at(u), i === 0 ? 2 : 1));
    }
    taps.push(x);
  }
  const [, c1, c2, c3] = taps as [Value, Value, Value, Value];

  // Each head reads the pyramid level its conv count brings down to 1×1: 16² (c3), 32², 64².
  let p2: Value | undefined;
  let p1: Value | undefined;
  const level = (convs: number): Value => {
    if (convs === 4) return c3;
    p2 ??= g.scope('encoder.latlayer1', () => upsampleAdd(g, c3, c2, p.at('latlayer1')));
    if (convs === 5) return p2;
    p1 ??= g.scope('encoder.latlayer2', () => upsampleAdd(g, p2!, c1, p.at('latlayer2')));
    if (convs === 6) return p1;
    throw new CheckpointError('unsupported', p.file, `style head with ${convs} convs`);
  };
  const codes: Value[] = [];
  for (let k = 0; k < nLatent; k++) {
    const head = p.at('styles').at(k);
    const convs = countHeadConvs(head);
    const code = g.scope(`encoder.styles.${k}`, () => styleHead(g, level(convs), head, convs));
    codes.push(g.op('Unsqueeze', [code, g.constInt([1])]));
  }
  let out = g.op('Concat', codes, { axis: 1 });
  if (latentAvg) {
    out = g.op('Add', [out, g.weight('latent_avg', latentAvg.shape, latentAvg.data)]);
  }
  g.output(out, 'codes', ['B', nLatent, styleDim]);
  return { nLatent, styleDim, units };
}

/** Conv layers of a style head sit at even indices of its Sequential (odd ones are activations). */
function countHeadConvs(head: Params): number {
  let n = 0;
  while (head.has(`convs.${2 * n}.weight`)) n++;
  return n;
}
