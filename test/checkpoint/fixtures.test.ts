// Reference values below were computed once with python3 + numpy from the same fixture files
// (data.pkl loaded with a placeholder Unpickler, storages read with np.frombuffer).
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  openTorchCheckpoint,
  readNpy,
  requireTensor,
  stateDictAt,
  tensorAt,
  valueAt,
} from '../../src/engine/checkpoint/index.ts';
import { FIXTURES, assertCheckpointError, assertClose, sum } from './helpers.ts';

const opts = { timeout: 10000 };
const ENCODER = path.join(FIXTURES, 'checkpoint', 'encoder.pt');
const GENERATOR = path.join(FIXTURES, 'checkpoint', 'cartoon', 'generator.pt');
const SAMPLER = path.join(FIXTURES, 'checkpoint', 'cartoon', 'sampler.pt');

describe('reference-tiny64 torch checkpoints', () => {
  test('encoder.pt: state_dict, opts and latent_avg', opts, () => {
    const ck = openTorchCheckpoint(ENCODER);
    try {
      assert.equal(ck.format, 'zip');
      const sd = stateDictAt(ck, ['state_dict']);
      assert.equal(sd.size, 602);
      const keys = [...sd.keys()];
      assert.deepEqual(keys.slice(0, 3), [
        'encoder.input_layer.0.weight',
        'encoder.input_layer.1.weight',
        'encoder.input_layer.1.bias',
      ]);
      assert.equal(keys.at(-1), 'decoder.noises.noise_8');
      assert.ok(keys.some((k) => k.startsWith('decoder.')));

      const conv = requireTensor(sd, 'encoder.input_layer.0.weight', ENCODER, 4);
      assert.deepEqual(conv.shape, [16, 3, 3, 3]);
      assert.equal(conv.dtype, 'float32');
      const values = conv.float32();
      assertClose(values, [0.04535732418298721, -0.01657494716346264, -0.14145876467227936]);
      assert.ok(Math.abs(sum(values) - 1.1845765369944274) < 1e-5);

      const counter = requireTensor(sd, 'encoder.input_layer.1.num_batches_tracked', ENCODER);
      assert.equal(counter.dtype, 'int64');
      assert.deepEqual(counter.shape, []);
      assert.deepEqual([...counter.float32()], [0]);

      const latentAvg = tensorAt(ck, ['latent_avg']);
      assert.deepEqual(latentAvg.shape, [10, 64]);
      const la = latentAvg.float32();
      assertClose(
        la,
        [-0.5693118572235107, -0.308882474899292, -0.11710463464260101, 0.5792621970176697],
      );
      assert.ok(Math.abs(sum(la) - -5.547755159997905) < 1e-5);

      const options = valueAt(ck, ['opts']);
      assert.ok(options instanceof Map);
      assert.equal(options.get('output_size'), 64);
      assert.equal(options.get('encoder_type'), 'GradualStyleEncoder');
      assert.equal(options.get('learning_rate'), 0.0001);
      assert.equal(options.get('start_from_latent_avg'), true);
      assert.equal(options.get('checkpoint_path'), null);

      let total = 0;
      for (const t of sd.values()) total += t.float32().length;
      assert.equal(total, 1344075);
    } finally {
      ck.close();
    }
  });

  test('generator.pt: g_ema keys follow the official naming', opts, () => {
    const ck = openTorchCheckpoint(GENERATOR);
    try {
      const sd = stateDictAt(ck, ['g_ema']);
      assert.equal(sd.size, 165);
      // A few of the official DualStyleGAN names (docs/official-state-dict-keys.txt).
      for (const key of [
        'style.1.weight',
        'generator.style.8.bias',
        'generator.input.input',
        'generator.conv1.conv.modulation.weight',
        'generator.to_rgb1.conv.weight',
        'res.0.norm.style.weight',
      ]) {
        assert.ok(sd.has(key), key);
      }
      const style = requireTensor(sd, 'style.1.weight', GENERATOR, 2);
      assert.deepEqual(style.shape, [64, 64]);
      const sv = style.float32();
      assertClose(
        sv,
        [-108.50589752197266, -116.13651275634766, -30.73578453063965, -43.34199142456055],
      );
      assert.ok(Math.abs(sum(sv) - -3809.6573478877544) < 1e-3);

      const conv = requireTensor(sd, 'generator.conv1.conv.weight', GENERATOR, 5);
      assert.deepEqual(conv.shape, [1, 64, 64, 3, 3]);
      const cv = conv.float32();
      assertClose(
        cv,
        [-0.34944742918014526, 1.281185269355774, -0.9743452668190002, 0.4034918248653412],
      );
      assert.ok(Math.abs(sum(cv) - 187.46715119783767) < 1e-3);

      const input = requireTensor(sd, 'generator.input.input', GENERATOR);
      assert.deepEqual(input.shape, [1, 64, 4, 4]);
      assert.ok(Math.abs(sum(input.float32()) - -8.206917704083025) < 1e-4);
    } finally {
      ck.close();
    }
  });

  test('sampler.pt: color and structure state dicts', opts, () => {
    const ck = openTorchCheckpoint(SAMPLER);
    try {
      const color = stateDictAt(ck, ['color']);
      const structure = stateDictAt(ck, ['structure']);
      assert.deepEqual(
        [...color.keys()],
        [
          'lin1.weight',
          'bn1.weight',
          'bn1.bias',
          'bn1.running_mean',
          'bn1.running_var',
          'bn1.num_batches_tracked',
          'lin2.weight',
          'bn2.weight',
          'bn2.bias',
          'bn2.running_mean',
          'bn2.running_var',
          'bn2.num_batches_tracked',
          'lin_out.weight',
        ],
      );
      // 3 colour slots and 7 structure slots of a 64-wide style.
      assert.deepEqual(requireTensor(color, 'lin_out.weight', SAMPLER).shape, [192, 128]);
      assert.deepEqual(requireTensor(structure, 'lin_out.weight', SAMPLER).shape, [448, 128]);
      const lin1 = requireTensor(color, 'lin1.weight', SAMPLER).float32();
      assertClose(lin1, [0.06350011378526688, -0.002682754537090659, 0.023543138056993484]);
      assert.ok(Math.abs(sum(lin1) - -4.390604966758474) < 1e-4);
      const var1 = requireTensor(color, 'bn1.running_var', SAMPLER).float32();
      assert.ok(Math.abs(sum(var1) - 126.9547587633133) < 1e-4);
      const out = requireTensor(structure, 'lin_out.weight', SAMPLER).float32();
      assertClose(out, [-0.08562722057104111, -0.08839002996683121, 0.010706220753490925]);
      assert.ok(Math.abs(sum(out) - -7.084358839703782) < 1e-4);
    } finally {
      ck.close();
    }
  });

  test('tensors cannot be read after close()', opts, () => {
    const ck = openTorchCheckpoint(SAMPLER);
    const t = requireTensor(stateDictAt(ck, ['color']), 'lin1.weight', SAMPLER);
    ck.close();
    ck.close();
    assertCheckpointError(() => t.float32(), 'closed', SAMPLER);
  });

  test('wrong paths and keys name the file and the key', opts, () => {
    const ck = openTorchCheckpoint(ENCODER);
    try {
      assertCheckpointError(
        () => stateDictAt(ck, ['g_ema']),
        'missing-key',
        ENCODER,
        "['g_ema']",
        'state_dict',
      );
      assertCheckpointError(() => stateDictAt(ck, ['opts']), 'bad-format', ENCODER, "['opts']");
      assertCheckpointError(() => stateDictAt(ck, ['latent_avg', 'x']), 'bad-format', ENCODER);
      assertCheckpointError(() => tensorAt(ck, ['opts']), 'bad-format', ENCODER);
      const sd = stateDictAt(ck, ['state_dict']);
      assertCheckpointError(
        () => requireTensor(sd, 'encoder.styles.99.linear.weight', ENCODER),
        'missing-key',
        ENCODER,
        'encoder.styles.99.linear.weight',
      );
      assertCheckpointError(
        () => requireTensor(sd, 'encoder.input_layer.0.weight', ENCODER, 2),
        'bad-shape',
        ENCODER,
        'encoder.input_layer.0.weight',
      );
    } finally {
      ck.close();
    }
  });
});

describe('reference-tiny64 .npy files', () => {
  const expectations = [
    {
      file: 'exstyle_code.npy',
      first: [1.411241888999939, 0.3201257586479187, 0.7829903960227966, 1.7927145957946777],
      firstSum: -31.249426791095175,
      lastSum: -38.22252756112721,
    },
    {
      file: 'refined_exstyle_code.npy',
      first: [1.144573450088501, 0.3936825692653656, 0.5053436756134033, 1.2776739597320557],
      firstSum: -32.74590652808547,
      lastSum: -39.72147707641125,
    },
  ];
  for (const e of expectations) {
    test(`${e.file}: pickled dict in style-id order`, opts, () => {
      const content = readNpy(path.join(FIXTURES, 'checkpoint', 'cartoon', e.file));
      assert.equal(content.kind, 'dict');
      if (content.kind !== 'dict') return;
      assert.deepEqual(
        [...content.entries.keys()],
        [
          'Cartoons_00000_00.jpg',
          'Cartoons_00001_07.jpg',
          'Cartoons_00002_01.jpg',
          'Cartoons_00003_08.jpg',
          'Cartoons_00004_02.jpg',
        ],
      );
      const tensors = [...content.entries.values()];
      for (const t of tensors) {
        assert.deepEqual(t.shape, [1, 10, 64]);
        assert.equal(t.dtype, 'float32');
      }
      const first = tensors[0]?.float32() ?? new Float32Array();
      assertClose(first, e.first);
      assert.ok(Math.abs(sum(first) - e.firstSum) < 1e-4);
      assert.ok(Math.abs(sum(tensors[4]?.float32() ?? new Float32Array()) - e.lastSum) < 1e-4);
    });
  }

  test('golden arrays', opts, () => {
    const z = readNpy(path.join(FIXTURES, 'golden', 'sampler_z.npy'));
    assert.equal(z.kind, 'array');
    if (z.kind !== 'array') return;
    assert.deepEqual(z.tensor.shape, [4, 128]);
    assertClose(z.tensor.float32(), [0.2339623123407364, 0.4841459095478058, -1.6698883771896362]);
    assert.ok(Math.abs(sum(z.tensor.float32()) - -17.047440763330087) < 1e-4);

    const img = readNpy(path.join(FIXTURES, 'golden', 'encoder_input.npy'));
    assert.equal(img.kind, 'array');
    if (img.kind !== 'array') return;
    assert.deepEqual(img.tensor.shape, [1, 3, 256, 256]);
    assert.ok(Math.abs(sum(img.tensor.float32()) - -19720.914677083492) < 1e-2);
  });
});
