/**
 * The DualStyleGAN generator (Yang et al., CVPR 2022) as one ONNX graph: the intrinsic path maps
 * and truncates the content code; the extrinsic path turns the exemplar's W+ code into structure
 * codes (T_s → ModRes after the coarse convs) and colour codes (T_c, blended per slot).
 */
import { float, GraphBuilder, type Value } from '../onnx/builder.ts';
import {
  INSTANCE_NORM_EPS,
  LRELU_GAIN,
  equalizedScale,
  conv2d,
  leakyRelu,
  linear,
  scaled,
} from './layers.ts';
import type { Params } from './params.ts';
import { mlp, styledConv, synthesisLayout, toRgb, type SynthesisLayout } from './stylegan2.ts';

export interface GeneratorLayout extends SynthesisLayout {
  /** Slots 0 … nStructure−1 carry structure (ModRes); the rest carry colour (T_c). */
  nStructure: number;
}

export function generatorLayout(p: Params): GeneratorLayout {
  const synthesis = synthesisLayout(p.at('generator'));
  const nStructure = p.at('res').count('conv.0.weight');
  const nColour = p.at('res').count('weight', nStructure);
  p.expect('res', 'ModRes + T_c blocks', nStructure + nColour, synthesis.nLatent);
  return { ...synthesis, nStructure };
}

/** AdaIN: `γ · InstanceNorm(x) + β` with `[γ, β]` from a plain nn.Linear of the style. */
function adaIn(g: GraphBuilder, x: Value, r: Value, p: Params, channels: number): Value {
  const gb = linear(g, r, p.at('style'), { equalized: false });
  const [gamma, beta] = g.opN('Split', [gb, g.constInt([channels, channels])], 2, { axis: 1 });
  const ones = g.constFloat(new Array<number>(channels).fill(1));
  const zeros = g.constFloat(new Array<number>(channels).fill(0));
  const norm = g.op('InstanceNormalization', [x, ones, zeros], {
    epsilon: float(INSTANCE_NORM_EPS),
  });
  const axes = g.constInt([2, 3]);
  return g.op('Add', [
    g.op('Mul', [norm, g.op('Unsqueeze', [gamma!, axes])]),
    g.op('Unsqueeze', [beta!, axes]),
  ]);
}

/** ConvLayer(C, C, 3): EqualConv2d without bias, then FusedLeakyReLU (its bias, gain folded). */
function convLayer(g: GraphBuilder, x: Value, p: Params): Value {
  const w = p.get('0.weight', 4);
  const bias = scaled(p.get('1.bias', 1).data, LRELU_GAIN);
  return leakyRelu(
    g,
    conv2d(g, x, `${p.prefix}0.weight`, w, { scale: equalizedScale(w.shape) * LRELU_GAIN, bias }),
  );
}

/** ModRes (AdaResBlock): `x + w · conv2(AdaIN2(conv(AdaIN1(x, r)), r))`. */
function modRes(g: GraphBuilder, x: Value, r: Value, w: Value, p: Params): Value {
  const channels = p.shape('conv.0.weight', 4)[0]!;
  return g.scope(p.prefix.slice(0, -1), () => {
    let h = convLayer(g, adaIn(g, x, r, p.at('norm'), channels), p.at('conv'));
    h = convLayer(g, adaIn(g, h, r, p.at('norm2'), channels), p.at('conv2'));
    return g.op('Add', [x, g.op('Mul', [h, w])]);
  });
}

/**
 * Builds `generator.onnx`: `content` [B,n,D] (z+, or W+ where `content_is_w` [B] is 1),
 * `exstyle` [B,n,D] W+, `weights` [B,n], `truncation` [B] and `noise_i` [1,1,H,W] (one per
 * StyledConv; the pack stores the checkpoint's buffers in `noise.bin`) → `image` [B,3,S,S], the
 * raw network output.
 */
export function buildGenerator(g: GraphBuilder, p: Params): GeneratorLayout {
  const layout = generatorLayout(p);
  const { nLatent: n, styleDim: d, size, nStructure } = layout;
  const gen = p.at('generator');
  const res = p.at('res');

  const content = g.input('content', ['B', n, d]);
  const exstyle = g.input('exstyle', ['B', n, d]);
  const weights = g.input('weights', ['B', n]);
  const truncation = g.input('truncation', ['B']);
  const contentIsW = g.input('content_is_w', ['B']);
  // Noise is an input, not a constant: ONNX Runtime's Node binding cannot override initializers,
  // and fresh noise from a seed must be possible.
  const noises = layout.noiseSizes.map((s, i) => g.input(`noise_${i}`, [1, 1, s, s]));

  // Intrinsic W+: a z+ code goes through the mapping network, a W+ one (input_is_latent) as it
  // is; then both are truncated toward 0, as the reference does (truncation_latent = 0).
  const mapped = g.scope('generator.style', () => mlp(g, content, gen.at('style')));
  const perItem = (x: Value): Value => g.op('Unsqueeze', [x, g.constInt([1, 2])]);
  const isW = g.op('Greater', [perItem(contentIsW), g.constFloat([0.5])]);
  const latent = g.op('Where', [isW, content, mapped]);
  const intrinsic = g.op('Mul', [latent, perItem(truncation)]);
  const slot = (x: Value, k: number): Value => g.op('Gather', [x, g.constInt([k])], { axis: 1 });
  const row = (x: Value, k: number): Value => g.op('Squeeze', [slot(x, k), g.constInt([1])]);

  // Structure codes: T_s over the structure rows of the extrinsic code.
  const coarse = g.op('Slice', [
    exstyle,
    g.constInt([0]),
    g.constInt([nStructure]),
    g.constInt([1]),
  ]);
  const structure = g.scope('style', () => mlp(g, coarse, p.at('style')));

  const weight = (k: number): Value => row(weights, k);
  const weight4d = (k: number): Value => g.op('Unsqueeze', [weight(k), g.constInt([1, 2, 3])]);
  // Colour slots blend T_c(exstyle) into the intrinsic code: wc + w·(T_c(we) − wc).
  const style = (k: number): Value => {
    const wc = row(intrinsic, k);
    if (k < nStructure) return wc;
    return g.scope(`res.${k}`, () => {
      const tc = linear(g, row(exstyle, k), res.at(k));
      const wk = g.op('Unsqueeze', [weight(k), g.constInt([1])]);
      return g.op('Add', [wc, g.op('Mul', [wk, g.op('Sub', [tc, wc])])]);
    });
  };
  const afterConv = (x: Value, k: number): Value =>
    k < nStructure ? modRes(g, x, row(structure, k), weight4d(k), res.at(k)) : x;

  const constant = gen.get('input.input', 4);
  let out: Value = g.weight('generator.input.input', constant.shape, constant.data);
  out = g.scope('generator.conv1', () =>
    styledConv(g, out, style(0), noises[0]!, gen.at('conv1'), false),
  );
  out = afterConv(out, 0);
  let skip = g.scope('generator.to_rgb1', () =>
    toRgb(g, out, style(1), undefined, gen.at('to_rgb1')),
  );
  const convs = gen.at('convs');
  for (let i = 1; i < n - 1; i += 2) {
    out = g.scope(`generator.convs.${i - 1}`, () =>
      styledConv(g, out, style(i), noises[i]!, convs.at(i - 1), true),
    );
    out = afterConv(out, i);
    out = g.scope(`generator.convs.${i}`, () =>
      styledConv(g, out, style(i + 1), noises[i + 1]!, convs.at(i), false),
    );
    out = afterConv(out, i + 1);
    const rgb = gen.at('to_rgbs').at((i - 1) / 2);
    const previous = skip;
    skip = g.scope(`generator.to_rgbs.${(i - 1) / 2}`, () =>
      toRgb(g, out, style(i + 2), previous, rgb),
    );
  }
  g.output(skip, 'image', ['B', 3, size, size]);
  return layout;
}
