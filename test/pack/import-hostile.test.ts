/**
 * `pastiche models import` on hostile input, as an operator runs it: each crafted checkpoint
 * ends in one line naming the file and exit code 1, with no stack trace and nothing left on disk;
 * a style folder cannot replace the encoder pack; SIGINT mid-import leaves no `.partial` folder.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { hostileCheckpoints } from '../helpers/hostile.ts';
import { TINY, tempDir } from '../helpers/packs.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pastiche.js');
const CODES = join(TINY, 'checkpoint', 'cartoon', 'exstyle_code.npy');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function importRelease(
  release: string,
  out: string,
  onStdout?: (text: string) => void,
): Run & {
  done: Promise<Run>;
  kill: (signal: NodeJS.Signals) => void;
} {
  const child = spawn(process.execPath, [BIN, 'models', 'import', release, '--out', out], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Run = { code: null, signal: null, stderr: '' };
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => onStdout?.(chunk.toString()));
  const done = once(child, 'exit').then(([code, signal]) => ({
    ...run,
    stderr: run.stderr,
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return { ...run, done, kill: (signal) => child.kill(signal) };
}

/** A release folder holding one style whose generator.pt is `write`'s file. */
function release(root: string, style: string, write: (file: string) => string): string {
  const dir = join(root, `release-${style}`);
  mkdirSync(join(dir, style), { recursive: true });
  write(join(dir, style, 'generator.pt'));
  copyFileSync(CODES, join(dir, style, 'exstyle_code.npy'));
  return dir;
}

describe('models import on hostile input', () => {
  const root = tempDir('import-hostile');

  it('ends each crafted checkpoint in one line naming the file, exit 1, nothing left', async () => {
    const runs = hostileCheckpoints().map(async (crafted) => {
      const dir = release(root, crafted.name, crafted.write);
      const out = join(root, `out-${crafted.name}`);
      const run = await importRelease(dir, out).done;
      const file = join(dir, crafted.name, 'generator.pt');
      const lines = run.stderr.trim().split('\n');
      assert.equal(run.code, 1, `${crafted.name}: ${run.stderr}`);
      assert.equal(lines.length, 1, `${crafted.name}: ${run.stderr}`);
      assert.match(lines[0]!, /^error: /);
      assert.ok(lines[0]!.includes(file), `${crafted.name}: ${lines[0]}`);
      assert.doesNotMatch(run.stderr, /\n\s+at /);
      assert.equal(existsSync(out), false, `${crafted.name}: --out was left behind`);
    });
    await Promise.all(runs);
  });

  it('refuses a style folder that would replace the encoder pack', async () => {
    const dir = release(root, 'Encoder', (file) => {
      copyFileSync(join(TINY, 'checkpoint', 'cartoon', 'generator.pt'), file);
      return file;
    });
    const out = join(root, 'out-names');
    const run = await importRelease(dir, out).done;
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /pack "encoder", already taken by the shared encoder pack/);
    assert.equal(existsSync(out), false);
  });

  it('removes the .partial folder and the new --out on SIGINT', async () => {
    const dir = join(root, 'release-full');
    mkdirSync(join(dir, 'cartoon'), { recursive: true });
    copyFileSync(join(TINY, 'checkpoint', 'encoder.pt'), join(dir, 'encoder.pt'));
    for (const f of ['generator.pt', 'exstyle_code.npy', 'sampler.pt'])
      copyFileSync(join(TINY, 'checkpoint', 'cartoon', f), join(dir, 'cartoon', f));
    const out = join(root, 'out-sigint');
    let signalled = false;
    const partial = (): boolean =>
      existsSync(out) && readdirSync(out).some((name) => name.includes('.partial-'));
    const child = importRelease(dir, out);
    // Waits for the importer's first temporary folder (state, not time), then interrupts it.
    while (!signalled) {
      const finished = await Promise.race([
        child.done.then(() => true),
        new Promise<false>((resolve) => setImmediate(() => resolve(false))),
      ]);
      if (finished) break;
      if (partial()) {
        child.kill('SIGINT');
        signalled = true;
      }
    }
    const run = await child.done;
    assert.ok(signalled, `the import finished before a .partial folder was seen: ${run.stderr}`);
    assert.ok(run.code === 130 || run.signal === 'SIGINT', `exit ${run.code}: ${run.stderr}`);
    const left = existsSync(out) ? readdirSync(out).filter((n) => n.startsWith('.')) : [];
    assert.deepEqual(left, []);
  });
});
