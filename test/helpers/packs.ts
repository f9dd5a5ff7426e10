import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { promisify } from 'node:util';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
export const TINY = join(FIXTURES, 'reference-tiny64');

/**
 * A fresh temporary directory, removed when the surrounding suite ends (demo packs are large).
 * Call it in a `describe` body, not inside a hook: there `after` would belong to the hook.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pastiche-${prefix}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs the real `pastiche` CLI, as an operator would. */
export async function pastiche(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const bin = join(import.meta.dirname, '..', '..', 'bin', 'pastiche.js');
  return promisify(execFile)(process.execPath, [bin, ...args], { maxBuffer: 1 << 24 });
}

/**
 * `max|ours − ref| ≤ 1e-4 · max(1, max|ref|)`: the parity bar of the fixtures, a little above
 * what float32 graphs measure against PyTorch's float32 (≤ 2e-5, README "Parity").
 */
export function parity(ours: Float32Array, ref: Float32Array): { error: number; bar: number } {
  if (ours.length !== ref.length)
    throw new Error(`length ${ours.length} ≠ reference ${ref.length}`);
  let error = 0;
  let peak = 0;
  for (let i = 0; i < ref.length; i++) {
    error = Math.max(error, Math.abs(ours[i]! - ref[i]!));
    peak = Math.max(peak, Math.abs(ref[i]!));
  }
  if (Number.isNaN(error) || !ours.every(Number.isFinite)) error = Infinity;
  return { error, bar: 1e-4 * Math.max(1, peak) };
}
