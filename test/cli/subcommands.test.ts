/**
 * `pastiche <cmd>` loads only that subcommand's modules: `models list` never loads discord.js
 * or Bolt (CommonJS, so they show in the require cache), while help without a subcommand still
 * lists every subcommand.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { installDemoPacks } from '../helpers/demo-packs.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pastiche.js');

/**
 * Prints, as the process exits, how many discord.js and Bolt modules it loaded, and how many of
 * onnxruntime-node (the inference stack, which listing packs should not pay for).
 */
const PROBE =
  "data:text/javascript,import{createRequire}from'node:module';" +
  "const r=createRequire('/');const n=(p)=>Object.keys(r.cache).filter((k)=>p.test(k)).length;" +
  "process.on('exit',()=>console.log('chat modules: '+n(/node_modules.(discord\\.js|@slack.bolt)/)+" +
  "'\\nonnx modules: '+n(/node_modules.onnxruntime-node/)))";

interface Loaded {
  stdout: string;
  chatModules: number;
  onnxModules: number;
}

async function pastiche(...args: string[]): Promise<Loaded> {
  // cwd: an empty dir, so a developer's .env never leaks into the test.
  const cwd = mkdtempSync(join(tmpdir(), 'pastiche-cli-'));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', PROBE, BIN, ...args],
    { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME } },
  );
  const chat = /^chat modules: (\d+)$/m.exec(stdout)?.[1];
  const onnx = /^onnx modules: (\d+)$/m.exec(stdout)?.[1];
  assert.ok(chat !== undefined && onnx !== undefined, stdout);
  return { stdout, chatModules: Number(chat), onnxModules: Number(onnx) };
}

describe('pastiche subcommands', { timeout: 60_000 }, () => {
  it('`models list` loads no chat platform module and no onnxruntime-node', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'pastiche-models-'));
    const { stdout, chatModules, onnxModules } = await pastiche('models', 'list', '--dir', empty);
    assert.match(stdout, /^no packs in /m);
    assert.equal(chatModules, 0);
    assert.equal(onnxModules, 0);
  });

  it('`models list` of installed packs loads no onnxruntime-node; `models verify` does', async () => {
    const models = await installDemoPacks(mkdtempSync(join(tmpdir(), 'pastiche-models-')), 64, {
      wPlus: false,
    });
    const list = await pastiche('models', 'list', '--dir', models);
    assert.match(list.stdout, /^demo-64 /m);
    assert.equal(list.onnxModules, 0);
    // The probe's positive control: verifying runs graphs, so the runtime is loaded then.
    const verify = await pastiche('models', 'verify', 'demo-64', '--dir', models);
    assert.match(verify.stdout, /^demo-64: \d+ files match/m);
    assert.ok(verify.onnxModules > 0);
  });

  it('`discord` loads discord.js', async () => {
    const { stdout, chatModules } = await pastiche('discord', '--help');
    assert.match(stdout, /Usage: pastiche discord/);
    assert.ok(chatModules > 0);
  });

  it('help without a subcommand lists them all', async () => {
    const { stdout } = await pastiche('--help');
    for (const name of ['models', 'start', 'stylize', 'discord', 'worker']) {
      assert.match(stdout, new RegExp(`^  ${name}\\b`, 'm'), name);
    }
  });
});
