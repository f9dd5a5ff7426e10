/**
 * The per-style sampler (DualStyleGAN's "ICP" nets): N(0,1) noise → an exemplar-like z+ code,
 * one MLP for the structure slots and one for the colour slots. BatchNorm runs in eval mode
 * (running statistics) and is folded into the linear layers.
 */
import { type GraphBuilder, type Value } from '../onnx/builder.ts';
import { batchNormAffine } from './layers.ts';
import type { Params } from './params.ts';

/** lin1 → bn1 → ReLU → lin2 → bn2 → ReLU → lin_out, all linears without bias. */
function net(g: GraphBuilder, z: Value, p: Params, slots: number, styleDim: number): Value {
  let h = z;
  for (const [lin, bn] of [
    ['lin1', 'bn1'],
    ['lin2', 'bn2'],
  ] as const) {
    const w = p.get(`${lin}.weight`, 2);
    const [out, inp] = w.shape as [number, number];
    const { a, c } = batchNormAffine(p.at(bn));
    const folded = new Float32Array(inp * out);
    for (let o = 0; o < out; o++) {
      for (let i = 0; i < inp; i++) folded[i * out + o] = w.data[o * inp + i]! * a[o]!;
    }
    h = g.op('MatMul', [h, g.weight(`${p.prefix}${lin}.weight`, [inp, out], folded)]);
    h = g.op('Relu', [g.op('Add', [h, g.weight(`${p.prefix}${bn}.bias`, [out], c)])]);
  }
  const w = p.get('lin_out.weight', 2);
  const [rows, hidden] = w.shape as [number, number];
  p.expect('lin_out.weight', 'rows', rows, slots * styleDim);
  const t = new Float32Array(rows * hidden);
  for (let o = 0; o < rows; o++) {
    for (let i = 0; i < hidden; i++) t[i * rows + o] = w.data[o * hidden + i]!;
  }
  h = g.op('MatMul', [h, g.weight(`${p.prefix}lin_out.weight`, [hidden, rows], t)]);
  return g.op('Reshape', [h, g.constInt([0, slots, styleDim])]);
}

/**
 * Builds `sampler.onnx`: `z` [B,Z] → `structure` [B,nStructure,D], `color` [B,n−nStructure,D].
 * `styleDim` and `nStructure` come from the style's generator checkpoint.
 */
export function buildSampler(
  g: GraphBuilder,
  structure: Params,
  color: Params,
  styleDim: number,
  nStructure: number,
): { zDim: number; nColor: number } {
  const zDim = structure.shape('lin1.weight', 2)[1]!;
  color.expect('lin1.weight', 'input width', color.shape('lin1.weight', 2)[1]!, zDim);
  const nColor = color.shape('lin_out.weight', 2)[0]! / styleDim;
  const z = g.input('z', ['B', zDim]);
  g.output(
    g.scope('structure', () => net(g, z, structure, nStructure, styleDim)),
    'structure',
    ['B', nStructure, styleDim],
  );
  g.output(
    g.scope('color', () => net(g, z, color, nColor, styleDim)),
    'color',
    ['B', nColor, styleDim],
  );
  return { zDim, nColor };
}
