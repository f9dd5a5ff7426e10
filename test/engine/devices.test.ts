/**
 * `engine.device`: validated in the config, mapped to ONNX Runtime execution providers, a missing
 * provider named in one sentence, and `auto` falling back to the CPU.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { GraphBuilder } from '../../src/engine/onnx/builder.ts';
import {
  DeviceUnavailableError,
  Model,
  providerChain,
  type Provider,
} from '../../src/engine/runtime/session.ts';
import { writeFileSync } from 'node:fs';
import { tempDir } from '../helpers/packs.ts';

describe('engine.device in the config', () => {
  it('defaults to cpu and takes auto or a provider from the environment', () => {
    const cwd = tempDir('device-config');
    assert.equal(loadConfig({ env: {}, cwd }).engine.device, 'cpu');
    for (const device of ['auto', 'cuda', 'webgpu', 'dml', 'coreml']) {
      const config = loadConfig({ env: { PASTICHE_ENGINE_DEVICE: device }, cwd });
      assert.equal(config.engine.device, device);
    }
  });

  it('rejects a device ONNX Runtime has no provider for', () => {
    const cwd = tempDir('device-config');
    assert.throws(
      () => loadConfig({ env: { PASTICHE_ENGINE_DEVICE: 'gpu' }, cwd }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.issues.some((i) => i.key === 'engine.device' && /auto/.test(i.message)),
    );
  });
});

describe('providers', () => {
  const dir = tempDir('device');
  const path = join(dir, 'relu.onnx');
  before(() => {
    const g = new GraphBuilder({ name: 'relu' });
    g.output(g.op('Relu', [g.input('x', ['N', 4])]), 'y', ['N', 4]);
    writeFileSync(path, g.toBytes());
  });
  const run = async (model: Model): Promise<number[]> => {
    const { y } = await model.run({ x: { dims: [1, 4], data: Float32Array.from([-1, 2, -3, 4]) } });
    return [...y!.data];
  };

  it('auto tries the GPUs each platform can have, then the CPU; a named device only itself', () => {
    assert.deepEqual(providerChain('auto', 'linux'), ['cuda', 'webgpu', 'cpu']);
    assert.deepEqual(providerChain('auto', 'win32'), ['cuda', 'dml', 'webgpu', 'cpu']);
    assert.deepEqual(providerChain('auto', 'darwin'), ['coreml', 'webgpu', 'cpu']);
    assert.deepEqual(providerChain('cuda', 'linux'), ['cuda']);
  });

  it('cpu runs', async () => {
    const model = await Model.load(path, { device: 'cpu' });
    assert.equal(model.provider, 'cpu');
    assert.deepEqual(await run(model), [0, 2, 0, 4]);
    await model.dispose();
  });

  it("a provider this platform's build lacks is one sentence naming what to do", async () => {
    const absent: Provider = process.platform === 'win32' ? 'coreml' : 'dml';
    await assert.rejects(
      Model.load(path, { device: absent }),
      (e: unknown) =>
        e instanceof DeviceUnavailableError &&
        e.provider === absent &&
        /only in onnxruntime-node's (Windows|macOS) build/.test(e.message),
    );
  });

  it('cuda runs where its libraries are installed, and says how to install them where not', async (t) => {
    try {
      const model = await Model.load(path, { device: 'cuda' });
      t.diagnostic('CUDA is installed here');
      assert.equal(model.provider, 'cuda');
      assert.deepEqual(await run(model), [0, 2, 0, 4]);
      await model.dispose();
    } catch (error) {
      assert.ok(error instanceof DeviceUnavailableError, String(error));
      assert.match(error.message, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
      assert.match(error.message, /cuDNN/);
    }
  });

  it('auto settles on the first provider that works and says why it passed the others', async () => {
    const messages: string[] = [];
    const model = await Model.load(path, { device: 'auto', onFallback: (m) => messages.push(m) });
    const chain = providerChain('auto');
    assert.ok(chain.includes(model.provider));
    assert.deepEqual(await run(model), [0, 2, 0, 4]);
    const passed = chain.slice(0, chain.indexOf(model.provider));
    if (passed.length > 0) {
      assert.equal(messages.length, 1);
      assert.match(messages[0]!, new RegExp(`using ${model.provider}`));
    } else {
      assert.deepEqual(messages, []);
    }
    // Later graphs go straight to the provider found, without trying or telling again.
    const again = await Model.load(path, { device: 'auto', onFallback: (m) => messages.push(m) });
    assert.equal(again.provider, model.provider);
    assert.equal(messages.length, passed.length > 0 ? 1 : 0);
    await Promise.all([model.dispose(), again.dispose()]);
  });
});
