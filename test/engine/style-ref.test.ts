/** Style references read back to the style they name; fusion's endpoints; weight presets. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UserError } from '../../src/engine/errors.ts';
import { blendCodes, fusionRatios } from '../../src/engine/fusion.ts';
import { presetWeights } from '../../src/engine/presets.ts';
import type { StylePart } from '../../src/engine/request.ts';
import {
  formatStyleRef,
  parseStyleRef,
  resultRef,
  type ReferableStyle,
} from '../../src/engine/style-ref.ts';

const style = (text: string) => {
  const ref = parseStyleRef(text);
  assert.equal(ref.kind, 'style');
  return ref.style;
};

const isBad = (error: unknown) => error instanceof UserError && error.code === 'bad-style-ref';

describe('style references', () => {
  it('reads each form', () => {
    assert.deepEqual(style('cartoon:26'), { kind: 'exemplar', pack: 'cartoon', exemplar: 26 });
    assert.deepEqual(style(' cartoon:Cartoons_00038_07 '), {
      kind: 'exemplar',
      pack: 'cartoon',
      exemplar: 'Cartoons_00038_07',
    });
    assert.deepEqual(style('cartoon:random:1a2b:3c4d'), {
      kind: 'sampled',
      pack: 'cartoon',
      structureSeed: '1a2b',
      colorSeed: '3c4d',
    });
    assert.deepEqual(style('cartoon:random:1a2b'), {
      kind: 'sampled',
      pack: 'cartoon',
      structureSeed: '1a2b',
      colorSeed: '1a2b',
    });
    assert.deepEqual(style('cartoon:image:abc'), {
      kind: 'cached-image',
      pack: 'cartoon',
      key: 'abc',
    });
    assert.deepEqual(style('cartoon:26+random:a:b@0.25'), {
      kind: 'blend',
      pack: 'cartoon',
      a: { kind: 'exemplar', exemplar: 26 },
      b: { kind: 'sampled', structureSeed: 'a', colorSeed: 'b' },
      ratio: 0.25,
    });
    assert.equal((style('cartoon:1+2') as { ratio: number }).ratio, 0.5);
    assert.deepEqual(parseStyleRef('result:1234-abcd'), { kind: 'result', jobId: '1234-abcd' });
  });

  it('draws seeds for a bare random only when asked to', () => {
    assert.throws(() => parseStyleRef('cartoon:random'), isBad);
    let n = 0;
    const ref = parseStyleRef('cartoon:random', { newSeed: () => `s${n++}` });
    assert.deepEqual(ref, {
      kind: 'style',
      style: { kind: 'sampled', pack: 'cartoon', structureSeed: 's0', colorSeed: 's1' },
    });
  });

  it('refuses what is not a reference', () => {
    for (const text of [
      '',
      'cartoon',
      ':26',
      'cartoon:',
      'cartoon:26@0.5',
      'cartoon:1+2+3',
      'cartoon:1+2@',
      'cartoon:1+2@1.5',
      'cartoon:1+2@x',
      'cartoon:1@2@3',
      'cartoon:image',
      'cartoon:random:a:b:c',
      'cartoon:26:4',
      'cartoon:%E0%A4%A',
      'result:',
    ]) {
      assert.throws(() => parseStyleRef(text), isBad, JSON.stringify(text));
    }
  });

  it('prints what it reads, for any names and seeds', () => {
    const atom = fc.string({ minLength: 1, maxLength: 12 });
    const part: fc.Arbitrary<StylePart> = fc.oneof(
      fc.record({ kind: fc.constant('exemplar' as const), exemplar: fc.nat(999) }),
      fc.record({
        kind: fc.constant('exemplar' as const),
        exemplar: atom.filter((s) => !/^\d+$/.test(s)),
      }),
      fc.record({ kind: fc.constant('sampled' as const), structureSeed: atom, colorSeed: atom }),
      fc.record({ kind: fc.constant('cached-image' as const), key: atom }),
    );
    const referable: fc.Arbitrary<ReferableStyle> = fc.oneof(
      fc.tuple(atom, part).map(([pack, p]) => ({ ...p, pack }) as ReferableStyle),
      fc
        .record({ pack: atom, a: part, b: part, ratio: fc.double({ min: 0, max: 1, noNaN: true }) })
        .map((r) => ({ kind: 'blend' as const, ...r })),
    );
    fc.assert(
      fc.property(referable, (s) => {
        fc.pre(s.pack !== 'result');
        const text = formatStyleRef(s);
        assert.deepEqual(parseStyleRef(text), { kind: 'style', style: structuredClone(s) }, text);
      }),
      { numRuns: 500 },
    );
    assert.deepEqual(parseStyleRef(resultRef('a:b+c')), { kind: 'result', jobId: 'a:b+c' });
  });

  it('prints the short forms', () => {
    assert.equal(formatStyleRef({ kind: 'exemplar', pack: 'cartoon', exemplar: 26 }), 'cartoon:26');
    assert.equal(
      formatStyleRef({
        kind: 'blend',
        pack: 'cartoon',
        a: { kind: 'exemplar', exemplar: 26 },
        b: { kind: 'sampled', structureSeed: 'a1', colorSeed: 'b2' },
        ratio: 0.3,
      }),
      'cartoon:26+random:a1:b2@0.3',
    );
    assert.equal(
      formatStyleRef({ kind: 'exemplar', pack: 'cartoon', exemplar: 'random' }),
      'cartoon:%72andom',
    );
  });
});

describe('style fusion', () => {
  const a = Float32Array.from([0.1, -2.5, 3.3333333, 1e-8]);
  const b = Float32Array.from([7.7, 0.2, -1.1, 5]);

  it('gives the endpoints bit for bit at 0 and 1, and the mean at 0.5', () => {
    assert.deepEqual(blendCodes(a, b, 0), a);
    assert.deepEqual(blendCodes(a, b, 1), b);
    assert.notEqual(blendCodes(a, b, 0), a, 'a copy, which the caller may change');
    const mid = blendCodes(a, b, 0.5);
    mid.forEach((v, i) => assert.ok(Math.abs(v - (a[i]! + b[i]!) / 2) < 1e-6));
  });

  it('refuses a ratio out of range or codes of different lengths', () => {
    assert.throws(() => blendCodes(a, b, 1.5), RangeError);
    assert.throws(() => blendCodes(a, b.subarray(1), 0.5), RangeError);
  });

  it('spaces strip frames from exactly 0 to exactly 1', () => {
    assert.deepEqual(fusionRatios(5), [0, 0.25, 0.5, 0.75, 1]);
    assert.equal(fusionRatios(6).at(-1), 1);
    assert.throws(() => fusionRatios(1), RangeError);
  });
});

describe('weight presets', () => {
  it('puts the structure weight on the first nStructure slots', () => {
    assert.deepEqual(presetWeights('colour-only', 6, 2), [0, 0, 1, 1, 1, 1]);
    assert.deepEqual(presetWeights('structure-only', 4, 3), [1, 1, 1, 0]);
  });
});
